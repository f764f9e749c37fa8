/// Protobuf wire format (proto3): a zero-copy field reader and append helpers.
/// Hot-path decoders (PushRequest, pprof) and cold ones (BlockMeta) share it.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

public struct ProtobufReader {
    public var reader: ByteReader

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) { reader = ByteReader(bytes) }

    @inlinable public var offset: Int { reader.offset }

    /// The next field's number and wire type, or nil at the end of the message.
    /// Groups (wire types 3/4) and field number 0 are malformed.
    @inlinable
    public mutating func nextField() throws(DecodeError) -> (number: UInt32, wire: WireType)? {
        if reader.isAtEnd { return nil }
        let start = reader.offset
        let key = try reader.readUvarint()
        let number = key >> 3
        guard number > 0, number <= 0x1FFF_FFFF else {
            throw DecodeError(.malformed, at: start, "invalid field number \(number)")
        }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw DecodeError(.malformed, at: start, "unsupported wire type \(key & 7) for field \(number)")
        }
        return (UInt32(number), wire)
    }

    @inlinable
    public mutating func readVarint() throws(DecodeError) -> UInt64 { try reader.readUvarint() }

    @inlinable
    public mutating func readFixed64() throws(DecodeError) -> UInt64 { try reader.readLE64() }

    @inlinable
    public mutating func readFixed32() throws(DecodeError) -> UInt32 { try reader.readLE32() }

    @inlinable
    public mutating func readLengthDelimited() throws(DecodeError) -> UnsafeRawBufferPointer {
        try reader.readUvarintBytes()
    }

    @inlinable
    public mutating func skip(_ wire: WireType) throws(DecodeError) {
        switch wire {
        case .varint: _ = try reader.readUvarint()
        case .fixed64: try reader.skip(8)
        case .lengthDelimited: _ = try reader.readUvarintBytes()
        case .fixed32: try reader.skip(4)
        }
    }

    /// Checks that a field arrived with the wire type its schema declares.
    @inlinable
    public func expect(_ wire: WireType, _ expected: WireType, field: UInt32) throws(DecodeError) {
        guard wire == expected else {
            throw DecodeError(.malformed, at: reader.offset, "field \(field): wire type \(wire.rawValue), expected \(expected.rawValue)")
        }
    }

    /// A repeated varint field, packed or not: calls `body` per element.
    @inlinable
    public mutating func readRepeatedVarint(_ wire: WireType, _ body: (UInt64) throws(DecodeError) -> Void) throws(DecodeError) {
        switch wire {
        case .varint:
            try body(try reader.readUvarint())
        case .lengthDelimited:
            var packed = ByteReader(try reader.readUvarintBytes())
            while !packed.isAtEnd { try body(try packed.readUvarint()) }
        default:
            throw DecodeError(.malformed, at: reader.offset, "repeated varint with wire type \(wire.rawValue)")
        }
    }
}

extension ByteWriter {
    @inlinable
    public mutating func appendTag(_ field: UInt32, _ wire: WireType) {
        appendUvarint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    /// A varint field; proto3 semantics (zero omitted) are the caller's choice.
    @inlinable
    public mutating func appendVarintField(_ field: UInt32, _ value: UInt64) {
        appendTag(field, .varint)
        appendUvarint(value)
    }

    /// int32/int64 fields: negative values as 10-byte two's complement (no zig-zag).
    @inlinable
    public mutating func appendInt64Field(_ field: UInt32, _ value: Int64) {
        appendVarintField(field, UInt64(bitPattern: value))
    }

    @inlinable
    public mutating func appendBytesField(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        appendTag(field, .lengthDelimited)
        appendUvarint(UInt64(value.count))
        append(value)
    }

    @inlinable
    public mutating func appendBytesField(_ field: UInt32, _ value: [UInt8]) {
        value.withUnsafeBytes { appendBytesField(field, $0) }
    }

    public mutating func appendStringField(_ field: UInt32, _ value: String) {
        var value = value
        value.withUTF8 { appendBytesField(field, UnsafeRawBufferPointer($0)) }
    }

    /// A nested message field. The body is encoded once into scratch space
    /// because the length prefix precedes it (cold paths only).
    public mutating func appendMessageField(_ field: UInt32, _ body: (inout ByteWriter) -> Void) {
        var inner = ByteWriter()
        body(&inner)
        appendTag(field, .lengthDelimited)
        appendUvarint(UInt64(inner.count))
        append(contentsOf: inner.bytes)
    }

    /// A packed repeated varint field (emitted even when empty only if `emitEmpty`).
    public mutating func appendPackedVarints<C: Collection>(_ field: UInt32, _ values: C, emitEmpty: Bool = false)
    where C.Element == UInt64 {
        guard emitEmpty || !values.isEmpty else { return }
        var size = 0
        for v in values { size += ByteWriter.uvarintSize(v) }
        appendTag(field, .lengthDelimited)
        appendUvarint(UInt64(size))
        for v in values { appendUvarint(v) }
    }
}
