import BinaryCoding

/// Thrift compact protocol type codes (the low nibble of a field header).
enum ThriftType: UInt8 {
    case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// Reads Thrift compact-protocol structs field by field. Callers decode the fields they know and
/// `skip` the rest; nesting is bounded so garbage cannot recurse without limit.
struct ThriftReader {
    var reader: ByteReader
    private var lastFieldIDs: [Int16] = []
    private var lastFieldID: Int16 = 0
    /// The value of the bool field just returned by `nextField` (compact protocol folds it into the header).
    private(set) var pendingBool = false

    static let maxDepth = 16

    init(_ reader: ByteReader) { self.reader = reader }

    var offset: Int { reader.offset }

    mutating func beginStruct() throws(DecodeError) {
        guard lastFieldIDs.count < Self.maxDepth else {
            throw DecodeError(.limitExceeded, at: reader.offset, "thrift nesting deeper than \(Self.maxDepth)")
        }
        lastFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    /// The next field's id and type, or nil at the struct's STOP byte (which ends the struct).
    mutating func nextField() throws(DecodeError) -> (id: Int16, type: ThriftType)? {
        let start = reader.offset
        let header = try reader.readU8()
        if header == 0 {
            lastFieldID = lastFieldIDs.popLast() ?? 0
            return nil
        }
        guard let type = ThriftType(rawValue: header & 0x0f) else {
            throw DecodeError(.malformed, at: start, "thrift field type \(header & 0x0f)")
        }
        let delta = Int16(header >> 4)
        if delta != 0 {
            lastFieldID &+= delta
        } else {
            let id = try reader.readVarint()
            guard let id16 = Int16(exactly: id) else {
                throw DecodeError(.malformed, at: start, "thrift field id \(id)")
            }
            lastFieldID = id16
        }
        if type == .boolTrue || type == .boolFalse { pendingBool = type == .boolTrue }
        return (lastFieldID, type)
    }

    mutating func readI32(_ type: ThriftType) throws(DecodeError) -> Int32 {
        let start = reader.offset
        guard type == .i32 || type == .i16 || type == .byte else { throw typeError(type, "i32", start) }
        if type == .byte { return Int32(Int8(bitPattern: try reader.readU8())) }
        let v = try reader.readVarint()
        guard let v32 = Int32(exactly: v) else {
            throw DecodeError(.malformed, at: start, "thrift i32 out of range: \(v)")
        }
        return v32
    }

    mutating func readI64(_ type: ThriftType) throws(DecodeError) -> Int64 {
        let start = reader.offset
        guard type == .i64 || type == .i32 || type == .i16 else { throw typeError(type, "i64", start) }
        return try reader.readVarint()
    }

    mutating func readBool(_ type: ThriftType) throws(DecodeError) -> Bool {
        guard type == .boolTrue || type == .boolFalse else { throw typeError(type, "bool", reader.offset) }
        return pendingBool
    }

    mutating func readBinary(_ type: ThriftType) throws(DecodeError) -> UnsafeRawBufferPointer {
        guard type == .binary else { throw typeError(type, "binary", reader.offset) }
        let n = try reader.readLength(limit: reader.remaining)
        return try reader.readBytes(n)
    }

    /// A list header; the count is checked against the bytes left (every element takes ≥ 1 byte).
    mutating func readListHeader(_ type: ThriftType) throws(DecodeError) -> (count: Int, element: ThriftType) {
        let start = reader.offset
        guard type == .list || type == .set else { throw typeError(type, "list", start) }
        let header = try reader.readU8()
        guard let element = ThriftType(rawValue: header & 0x0f) else {
            throw DecodeError(.malformed, at: start, "thrift list element type \(header & 0x0f)")
        }
        var count = Int(header >> 4)
        if count == 15 { count = try reader.readLength(limit: reader.remaining) }
        guard count <= reader.remaining else {
            throw DecodeError(.truncated, at: start, "thrift list of \(count) elements in \(reader.remaining) bytes")
        }
        return (count, element)
    }

    /// Reads a bool list element (compact protocol: one byte each).
    mutating func readBoolElement() throws(DecodeError) -> Bool {
        try reader.readU8() == 1
    }

    mutating func skip(_ type: ThriftType, depth: Int = 0) throws(DecodeError) {
        guard depth < Self.maxDepth else {
            throw DecodeError(.limitExceeded, at: reader.offset, "thrift nesting deeper than \(Self.maxDepth)")
        }
        switch type {
        case .boolTrue, .boolFalse: break
        case .byte: try reader.skip(1)
        case .i16, .i32, .i64: _ = try reader.readUvarint()
        case .double: try reader.skip(8)
        case .binary: _ = try readBinary(type)
        case .list, .set:
            let (count, element) = try readListHeader(type)
            for _ in 0 ..< count { try skipElement(element, depth: depth + 1) }
        case .map:
            let start = reader.offset
            let count = try reader.readLength(limit: reader.remaining)
            if count == 0 { return }
            let types = try reader.readU8()
            guard let k = ThriftType(rawValue: types >> 4), let v = ThriftType(rawValue: types & 0x0f) else {
                throw DecodeError(.malformed, at: start, "thrift map types \(types)")
            }
            for _ in 0 ..< count {
                try skipElement(k, depth: depth + 1)
                try skipElement(v, depth: depth + 1)
            }
        case .structure:
            try beginStruct()
            while let field = try nextField() { try skip(field.type, depth: depth + 1) }
        }
    }

    /// Container elements: a bool takes one byte there (it has no field header to live in).
    private mutating func skipElement(_ type: ThriftType, depth: Int) throws(DecodeError) {
        if type == .boolTrue || type == .boolFalse { try reader.skip(1) } else { try skip(type, depth: depth) }
    }

    private func typeError(_ got: ThriftType, _ want: String, _ at: Int) -> DecodeError {
        DecodeError(.malformed, at: at, "thrift field of type \(got) where \(want) expected")
    }
}

/// Writes Thrift compact-protocol structs into a `ByteWriter`, tracking field-id deltas per nesting level.
struct ThriftWriter {
    private var lastFieldIDs: [Int16] = []
    private var lastFieldID: Int16 = 0

    mutating func fieldHeader(_ id: Int16, _ type: ThriftType, _ w: inout ByteWriter) {
        let delta = id - lastFieldID
        if delta > 0 && delta <= 15 {
            w.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            w.append(type.rawValue)
            w.appendVarint(Int64(id))
        }
        lastFieldID = id
    }

    mutating func i32(_ id: Int16, _ v: Int32, _ w: inout ByteWriter) {
        fieldHeader(id, .i32, &w)
        w.appendVarint(Int64(v))
    }

    mutating func i64(_ id: Int16, _ v: Int64, _ w: inout ByteWriter) {
        fieldHeader(id, .i64, &w)
        w.appendVarint(v)
    }

    mutating func bool(_ id: Int16, _ v: Bool, _ w: inout ByteWriter) {
        fieldHeader(id, v ? .boolTrue : .boolFalse, &w)
    }

    mutating func binary(_ id: Int16, _ bytes: UnsafeRawBufferPointer, _ w: inout ByteWriter) {
        fieldHeader(id, .binary, &w)
        w.appendUvarint(UInt64(bytes.count))
        w.append(bytes)
    }

    mutating func binary(_ id: Int16, _ bytes: [UInt8], _ w: inout ByteWriter) {
        bytes.withUnsafeBytes { binary(id, $0, &w) }
    }

    /// Opens a nested struct as field `id`; close it with `endStruct`.
    mutating func beginStruct(_ id: Int16, _ w: inout ByteWriter) {
        fieldHeader(id, .structure, &w)
        beginStructElement()
    }

    /// Opens a struct that is a list element (no field header).
    mutating func beginStructElement() {
        lastFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    mutating func endStruct(_ w: inout ByteWriter) {
        w.append(0)
        lastFieldID = lastFieldIDs.popLast() ?? 0
    }

    mutating func listHeader(_ id: Int16, _ element: ThriftType, count: Int, _ w: inout ByteWriter) {
        fieldHeader(id, .list, &w)
        Self.listHeader(element, count: count, &w)
    }

    static func listHeader(_ element: ThriftType, count: Int, _ w: inout ByteWriter) {
        if count < 15 {
            w.append(UInt8(count) << 4 | element.rawValue)
        } else {
            w.append(0xf0 | element.rawValue)
            w.appendUvarint(UInt64(count))
        }
    }
}
