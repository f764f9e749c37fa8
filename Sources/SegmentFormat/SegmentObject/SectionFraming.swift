import BinaryCoding

/// Cheap framing checks of each section (segment-object.md §3.1), done when an object is
/// opened; the section readers check the insides (`SegmentObjectVerifier`).
enum SectionFraming {
    static let parquetMagic: [UInt8] = Array("PAR1".utf8)
    static let tsdbHeader: [UInt8] = [0xBA, 0xAA, 0xD7, 0x00, 0x02]
    static let tsdbTOCBytes = 76
    static let symdbMagic: [UInt8] = Array("sym1".utf8)
    static let symdbFooterBytes = 24
    static let symdbVersion: UInt32 = 3

    /// Checks one section; offsets in errors are relative to the section.
    static func check(_ kind: SectionKind, _ s: UnsafeRawBufferPointer) throws(DecodeError) {
        switch kind {
        case .profiles: try checkParquet(s)
        case .index, .datasetIndex: try checkTSDB(s)
        case .symbols: try checkSymDB(s)
        }
    }

    /// `PAR1` | pages | footer | le32 footer length | `PAR1`.
    static func checkParquet(_ s: UnsafeRawBufferPointer) throws(DecodeError) {
        guard s.count >= 12 else { throw DecodeError(.truncated, at: 0, "\(s.count) bytes, too short for parquet") }
        guard s.starts(with: parquetMagic) else { throw DecodeError(.malformed, at: 0, "missing leading PAR1") }
        guard s[(s.count - 4)...].elementsEqual(parquetMagic) else {
            throw DecodeError(.malformed, at: s.count - 4, "missing trailing PAR1")
        }
        var r = ByteReader(s, offset: s.count - 8)
        let footer = Int(try r.readLE32())
        guard footer <= s.count - 12 else {
            throw DecodeError(.malformed, at: s.count - 8, "footer length \(footer) exceeds the section")
        }
    }

    /// Header `BA AA D7 00 02`; the last 76 bytes are the TOC with its CRC.
    static func checkTSDB(_ s: UnsafeRawBufferPointer) throws(DecodeError) {
        guard s.count >= tsdbHeader.count + tsdbTOCBytes else {
            throw DecodeError(.truncated, at: 0, "\(s.count) bytes, too short for a TSDB index")
        }
        guard s.starts(with: tsdbHeader) else { throw DecodeError(.malformed, at: 0, "bad TSDB magic or version") }
        let toc = s.count - tsdbTOCBytes
        var r = ByteReader(s, offset: s.count - 4)
        let stored = try r.readBE32()
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: s[toc ..< s.count - 4]))
        guard stored == actual else { throw DecodeError(.checksum, at: s.count - 4, "TSDB TOC CRC mismatch") }
    }

    /// Footer `sym1` | be32 version 3 | be64 index offset | 4 reserved | be32 CRC32C(first 20).
    static func checkSymDB(_ s: UnsafeRawBufferPointer) throws(DecodeError) {
        guard s.count >= symdbFooterBytes else {
            throw DecodeError(.truncated, at: 0, "\(s.count) bytes, too short for a symdb footer")
        }
        let f = s.count - symdbFooterBytes
        guard s[f ..< f + 4].elementsEqual(symdbMagic) else { throw DecodeError(.malformed, at: f, "missing sym1 footer magic") }
        var r = ByteReader(s, offset: f + 4)
        let version = try r.readBE32()
        let indexOffset = try r.readBE64()
        try r.skip(4)
        let stored = try r.readBE32()
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: s[f ..< f + 20]))
        guard stored == actual else { throw DecodeError(.checksum, at: f + 20, "symdb footer CRC mismatch") }
        guard version == symdbVersion else { throw DecodeError(.unsupported, at: f + 4, "symdb version \(version), expected 3") }
        guard indexOffset <= UInt64(f) else {
            throw DecodeError(.malformed, at: f + 8, "symdb index offset \(indexOffset) beyond the footer at \(f)")
        }
    }
}
