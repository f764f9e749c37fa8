import BinaryCoding

/// The parts of `FileMetaData` (parquet.thrift) the reader and the tests use.
struct FileMetadata {
    struct SchemaElement: Equatable {
        var type: Int32?
        var typeLength: Int32?
        var repetition: Int32?
        var name: String = ""
        var numChildren: Int?
        var convertedType: Int32?
        var fieldID: Int32?
        /// `LogicalType` union member and its parameters, e.g. "INTEGER(64,false)", "TIMESTAMP(NANOS,true)".
        var logical: String?
    }

    struct ColumnChunk {
        var path: [String] = []
        var type: Int32 = -1
        var encodings: [Int32] = []
        var codec: Int32 = 0
        var numValues: Int64 = 0
        var totalUncompressedSize: Int64 = 0
        var totalCompressedSize: Int64 = 0
        var dataPageOffset: Int64 = 0
        var dictionaryPageOffset: Int64?
        var fileOffset: Int64 = 0
        var offsetIndexOffset: Int64?
        var offsetIndexLength: Int32?
        var columnIndexOffset: Int64?
        var columnIndexLength: Int32?
        /// Chunk statistics: null_count, min_value, max_value.
        var nullCount: Int64?
        var minValue: [UInt8]?
        var maxValue: [UInt8]?
        /// `encoding_stats` as (page type, encoding, count).
        var encodingStats: [[Int32]] = []
        /// `size_statistics`.
        var unencodedByteArrayBytes: Int64?
        var repetitionHistogram: [Int64]?
        var definitionHistogram: [Int64]?

        var firstPageOffset: Int64 { dictionaryPageOffset ?? dataPageOffset }
    }

    struct RowGroup {
        var columns: [ColumnChunk] = []
        var numRows: Int64 = 0
        var totalByteSize: Int64 = 0
        var ordinal: Int16?
    }

    var version: Int32 = 0
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroup] = []
    var createdBy: String?

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> FileMetadata {
        var t = ThriftReader(ByteReader(bytes))
        var meta = FileMetadata()
        try t.beginStruct()
        while let f = try t.nextField() {
            switch (f.id, f.type) {
            case (1, _): meta.version = try t.readI32(f.type)
            case (2, .list):
                let (count, element) = try t.readListHeader(f.type)
                try expectStruct(element, &t)
                for _ in 0 ..< count { meta.schema.append(try decodeSchemaElement(&t)) }
            case (3, _): meta.numRows = try t.readI64(f.type)
            case (4, .list):
                let (count, element) = try t.readListHeader(f.type)
                try expectStruct(element, &t)
                for _ in 0 ..< count { meta.rowGroups.append(try decodeRowGroup(&t)) }
            case (6, .binary): meta.createdBy = try t.readBinary(f.type).utf8String
            default: try t.skip(f.type)
            }
        }
        return meta
    }

    private static func expectStruct(_ element: ThriftType, _ t: inout ThriftReader) throws(DecodeError) {
        guard element == .structure else {
            throw DecodeError(.malformed, at: t.offset, "list of \(element) where structs expected")
        }
    }

    private static func decodeSchemaElement(_ t: inout ThriftReader) throws(DecodeError) -> SchemaElement {
        var e = SchemaElement()
        try t.beginStruct()
        while let f = try t.nextField() {
            switch f.id {
            case 1: e.type = try t.readI32(f.type)
            case 2: e.typeLength = try t.readI32(f.type)
            case 3: e.repetition = try t.readI32(f.type)
            case 4: e.name = try t.readBinary(f.type).utf8String
            case 5:
                let n = try t.readI32(f.type)
                guard n >= 0 else { throw DecodeError(.malformed, at: t.offset, "negative num_children") }
                e.numChildren = Int(n)
            case 6: e.convertedType = try t.readI32(f.type)
            case 9: e.fieldID = try t.readI32(f.type)
            case 10 where f.type == .structure: e.logical = try decodeLogicalType(&t)
            default: try t.skip(f.type)
            }
        }
        return e
    }

    private static func decodeLogicalType(_ t: inout ThriftReader) throws(DecodeError) -> String {
        var description = "?"
        try t.beginStruct()
        while let f = try t.nextField() {
            guard f.type == .structure else { try t.skip(f.type); continue }
            switch f.id {
            case 8: // TIMESTAMP {1 isAdjustedToUTC, 2 unit}
                var utc = false, unit = "?"
                try t.beginStruct()
                while let g = try t.nextField() {
                    if g.id == 1, g.type == .boolTrue || g.type == .boolFalse { utc = try t.readBool(g.type) }
                    else if g.id == 2, g.type == .structure {
                        try t.beginStruct()
                        while let u = try t.nextField() {
                            unit = u.id == 1 ? "MILLIS" : u.id == 2 ? "MICROS" : u.id == 3 ? "NANOS" : "?"
                            try t.skip(u.type)
                        }
                    } else { try t.skip(g.type) }
                }
                description = "TIMESTAMP(\(unit),\(utc))"
            case 10: // INTEGER {1 bitWidth, 2 isSigned}
                var bits: Int32 = 0, signed = false
                try t.beginStruct()
                while let g = try t.nextField() {
                    if g.id == 1 { bits = try t.readI32(g.type) }
                    else if g.id == 2, g.type == .boolTrue || g.type == .boolFalse { signed = try t.readBool(g.type) }
                    else { try t.skip(g.type) }
                }
                description = "INTEGER(\(bits),\(signed))"
            default:
                let names: [Int16: String] = [1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE",
                                              7: "TIME", 11: "UNKNOWN", 12: "JSON", 13: "BSON", 14: "UUID"]
                description = names[f.id] ?? "?"
                try t.skip(f.type)
            }
        }
        return description
    }

    private static func decodeRowGroup(_ t: inout ThriftReader) throws(DecodeError) -> RowGroup {
        var g = RowGroup()
        try t.beginStruct()
        while let f = try t.nextField() {
            switch (f.id, f.type) {
            case (1, .list):
                let (count, element) = try t.readListHeader(f.type)
                try expectStruct(element, &t)
                for _ in 0 ..< count { g.columns.append(try decodeColumnChunk(&t)) }
            case (2, _): g.totalByteSize = try t.readI64(f.type)
            case (3, _): g.numRows = try t.readI64(f.type)
            case (7, _): g.ordinal = Int16(truncatingIfNeeded: try t.readI32(f.type))
            default: try t.skip(f.type)
            }
        }
        return g
    }

    private static func decodeColumnChunk(_ t: inout ThriftReader) throws(DecodeError) -> ColumnChunk {
        var c = ColumnChunk()
        var sawMetadata = false
        try t.beginStruct()
        while let f = try t.nextField() {
            switch (f.id, f.type) {
            case (2, _): c.fileOffset = try t.readI64(f.type)
            case (3, .structure):
                try decodeColumnMetadata(&t, into: &c)
                sawMetadata = true
            case (4, _): c.offsetIndexOffset = try t.readI64(f.type)
            case (5, _): c.offsetIndexLength = try t.readI32(f.type)
            case (6, _): c.columnIndexOffset = try t.readI64(f.type)
            case (7, _): c.columnIndexLength = try t.readI32(f.type)
            default: try t.skip(f.type)
            }
        }
        guard sawMetadata else { throw DecodeError(.unsupported, at: t.offset, "column chunk without inline metadata") }
        return c
    }

    private static func decodeColumnMetadata(_ t: inout ThriftReader, into c: inout ColumnChunk) throws(DecodeError) {
        try t.beginStruct()
        while let f = try t.nextField() {
            switch (f.id, f.type) {
            case (1, _): c.type = try t.readI32(f.type)
            case (2, .list):
                let (count, _) = try t.readListHeader(f.type)
                for _ in 0 ..< count { c.encodings.append(try t.readI32(.i32)) }
            case (3, .list):
                let (count, element) = try t.readListHeader(f.type)
                for _ in 0 ..< count { c.path.append(try t.readBinary(element).utf8String) }
            case (4, _): c.codec = try t.readI32(f.type)
            case (5, _): c.numValues = try t.readI64(f.type)
            case (6, _): c.totalUncompressedSize = try t.readI64(f.type)
            case (7, _): c.totalCompressedSize = try t.readI64(f.type)
            case (9, _): c.dataPageOffset = try t.readI64(f.type)
            case (11, _): c.dictionaryPageOffset = try t.readI64(f.type)
            case (12, .structure):
                try t.beginStruct()
                while let s = try t.nextField() {
                    switch s.id {
                    case 3: c.nullCount = try t.readI64(s.type)
                    case 5: c.maxValue = Array(try t.readBinary(s.type))
                    case 6: c.minValue = Array(try t.readBinary(s.type))
                    default: try t.skip(s.type)
                    }
                }
            case (13, .list):
                let (count, element) = try t.readListHeader(f.type)
                try expectStruct(element, &t)
                for _ in 0 ..< count {
                    var stat: [Int32] = [0, 0, 0]
                    try t.beginStruct()
                    while let s = try t.nextField() {
                        if (1 ... 3).contains(s.id) { stat[Int(s.id) - 1] = try t.readI32(s.type) } else { try t.skip(s.type) }
                    }
                    c.encodingStats.append(stat)
                }
            case (16, .structure):
                try t.beginStruct()
                while let s = try t.nextField() {
                    switch (s.id, s.type) {
                    case (1, _): c.unencodedByteArrayBytes = try t.readI64(s.type)
                    case (2, .list): c.repetitionHistogram = try readI64List(&t, s.type)
                    case (3, .list): c.definitionHistogram = try readI64List(&t, s.type)
                    default: try t.skip(s.type)
                    }
                }
            default: try t.skip(f.type)
            }
        }
    }

    static func readI64List(_ t: inout ThriftReader, _ type: ThriftType) throws(DecodeError) -> [Int64] {
        let (count, element) = try t.readListHeader(type)
        var out: [Int64] = []
        for _ in 0 ..< count { out.append(try t.readI64(element)) }
        return out
    }
}

/// A leaf column of the file's schema with its level bounds.
struct SchemaLeaf: Equatable {
    var path: [String]
    var physicalType: Int32
    var typeLength: Int32?
    var maxDefinitionLevel: UInt8
    var maxRepetitionLevel: UInt8

    /// Leaves of a depth-first schema list, root first (`num_children` drives the walk).
    static func leaves(of schema: [FileMetadata.SchemaElement]) throws(DecodeError) -> [SchemaLeaf] {
        guard let root = schema.first, let rootChildren = root.numChildren else {
            throw DecodeError(.malformed, at: 0, "schema without a root group")
        }
        var leaves: [SchemaLeaf] = []
        var next = 1
        var path: [String] = []
        // Stack of (children left, def, rep) per open group.
        var stack: [(left: Int, def: UInt8, rep: UInt8)] = [(rootChildren, 0, 0)]
        while let top = stack.last {
            if top.left == 0 { stack.removeLast(); if !path.isEmpty { path.removeLast() }; continue }
            stack[stack.count - 1].left -= 1
            guard next < schema.count, stack.count <= 16 else {
                throw DecodeError(.malformed, at: 0, "schema tree does not match its element count")
            }
            let e = schema[next]
            next += 1
            var def = top.def, rep = top.rep
            if e.repetition == 1 { def += 1 }
            if e.repetition == 2 { def += 1; rep += 1 }
            if let n = e.numChildren, e.type == nil {
                path.append(e.name)
                stack.append((n, def, rep))
            } else {
                guard let type = e.type else { throw DecodeError(.malformed, at: 0, "leaf \(e.name) without a type") }
                leaves.append(SchemaLeaf(path: path + [e.name], physicalType: type, typeLength: e.typeLength,
                                         maxDefinitionLevel: def, maxRepetitionLevel: rep))
            }
        }
        guard next == schema.count else { throw DecodeError(.malformed, at: 0, "schema has unreachable elements") }
        return leaves
    }
}
