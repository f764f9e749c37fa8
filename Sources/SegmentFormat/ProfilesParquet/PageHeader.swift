import BinaryCoding

/// `PageHeader` (parquet.thrift) with the members the reader needs.
struct PageHeader {
    var type: Int32 = -1
    var uncompressedSize: Int32 = -1
    var compressedSize: Int32 = -1
    var crc: Int32?
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    // DATA_PAGE_V2 only.
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var definitionLevelsLength: Int32 = 0
    var repetitionLevelsLength: Int32 = 0
    var isCompressed = true
    // DATA_PAGE (v1) only.
    var definitionLevelEncoding: Int32 = 3
    var repetitionLevelEncoding: Int32 = 3
    /// Page statistics: null_count, min_value, max_value (v2 header field 8).
    var nullCount: Int64?
    var minValue: [UInt8]?
    var maxValue: [UInt8]?

    static func decode(_ t: inout ThriftReader) throws(DecodeError) -> PageHeader {
        var h = PageHeader()
        try t.beginStruct()
        while let f = try t.nextField() {
            switch (f.id, f.type) {
            case (1, _): h.type = try t.readI32(f.type)
            case (2, _): h.uncompressedSize = try t.readI32(f.type)
            case (3, _): h.compressedSize = try t.readI32(f.type)
            case (4, _): h.crc = try t.readI32(f.type)
            case (5, .structure): try h.decodeDataPageV1(&t)
            case (7, .structure): try h.decodeDictionaryPage(&t)
            case (8, .structure): try h.decodeDataPageV2(&t)
            default: try t.skip(f.type)
            }
        }
        guard h.compressedSize >= 0, h.uncompressedSize >= 0, h.numValues >= 0 else {
            throw DecodeError(.malformed, at: t.offset, "negative page size or value count")
        }
        return h
    }

    private mutating func decodeDataPageV1(_ t: inout ThriftReader) throws(DecodeError) {
        try t.beginStruct()
        while let f = try t.nextField() {
            switch f.id {
            case 1: numValues = try t.readI32(f.type)
            case 2: encoding = try t.readI32(f.type)
            case 3: definitionLevelEncoding = try t.readI32(f.type)
            case 4: repetitionLevelEncoding = try t.readI32(f.type)
            default: try t.skip(f.type)
            }
        }
    }

    private mutating func decodeDictionaryPage(_ t: inout ThriftReader) throws(DecodeError) {
        try t.beginStruct()
        while let f = try t.nextField() {
            switch f.id {
            case 1: numValues = try t.readI32(f.type)
            case 2: encoding = try t.readI32(f.type)
            default: try t.skip(f.type)
            }
        }
    }

    private mutating func decodeDataPageV2(_ t: inout ThriftReader) throws(DecodeError) {
        try t.beginStruct()
        while let f = try t.nextField() {
            switch (f.id, f.type) {
            case (1, _): numValues = try t.readI32(f.type)
            case (2, _): numNulls = try t.readI32(f.type)
            case (3, _): numRows = try t.readI32(f.type)
            case (4, _): encoding = try t.readI32(f.type)
            case (5, _): definitionLevelsLength = try t.readI32(f.type)
            case (6, _): repetitionLevelsLength = try t.readI32(f.type)
            case (7, _): isCompressed = try t.readBool(f.type)
            case (8, .structure):
                try t.beginStruct()
                while let s = try t.nextField() {
                    switch s.id {
                    case 3: nullCount = try t.readI64(s.type)
                    case 5: maxValue = Array(try t.readBinary(s.type))
                    case 6: minValue = Array(try t.readBinary(s.type))
                    default: try t.skip(s.type)
                    }
                }
            default: try t.skip(f.type)
            }
        }
        guard definitionLevelsLength >= 0, repetitionLevelsLength >= 0 else {
            throw DecodeError(.malformed, at: t.offset, "negative level length")
        }
    }
}
