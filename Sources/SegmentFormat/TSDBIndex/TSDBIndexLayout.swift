import BinaryCoding

/// Fixed facts of the Pyroscope fork of the Prometheus TSDB index v2 (tsdb-index.md §3).
enum TSDBIndexLayout {
    static let magic: UInt32 = 0xBAAA_D700
    static let version: UInt8 = 2
    static let headerSize = 5
    /// 7 section offsets, `from`, `through` (BE64 each), then a BE32 CRC.
    static let tocSize = 76
    static let minimumSize = headerSize + tocSize
    static let seriesAlignment = 16
    static let listAlignment = 4
    /// §3.7: one fingerprint-offsets entry per this many series call ordinals.
    static let fingerprintInterval = 1024
    /// §3.2: the reader insists on at most 5 bytes for a series' body-length uvarint.
    static let seriesLengthVarintMax = 5
}

/// The table of contents (§3.8). Offsets are relative to the index's first byte.
struct TSDBTOC: Equatable {
    var symbols: Int = 0
    var series: Int = 0
    var labelIndices: Int = 0
    var labelIndicesTable: Int = 0
    var postings: Int = 0
    var postingsTable: Int = 0
    var fingerprintOffsets: Int = 0
    var from: Int64 = 0
    var through: Int64 = 0
}

extension ByteWriter {
    /// Starts `framed(C)` (§2): a BE32 length placeholder, patched by `endFramed`.
    mutating func beginFramed() -> Int {
        let lengthAt = count
        appendBE32(0)
        return lengthAt
    }

    /// Patches the length and appends the BE32 CRC-32C of the contents.
    mutating func endFramed(_ lengthAt: Int) {
        let contentStart = lengthAt + 4
        let length = count - contentStart
        precondition(length <= Int(UInt32.max), "framed section longer than BE32 allows")
        setBE32(UInt32(length), at: lengthAt)
        appendBE32(crc32c(contentStart ..< count))
    }

    /// A `ustr` (§2): uvarint length, then the raw bytes.
    mutating func appendUvarintString(_ s: ArraySlice<UInt8>) {
        appendUvarint(UInt64(s.count))
        append(contentsOf: s)
    }
}
