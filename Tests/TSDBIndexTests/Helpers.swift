import BinaryCoding
import TestSupport
import TSDBIndex

/// Decodes with the reader under test; the bytes stay alive for the call.
func readIndex(_ bytes: [UInt8]) throws(DecodeError) -> TSDBIndexContents {
    let result = bytes.withUnsafeBytes { raw in
        Result { () throws(DecodeError) -> TSDBIndexContents in try TSDBIndexReader.read(raw) }
    }
    return try result.get()
}

func written(_ contents: TSDBIndexContents) -> [UInt8] {
    var w = ByteWriter()
    TSDBIndexWriter.write(contents, into: &w)
    return w.bytes
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8).filter { !$0.isWhitespace }
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0 ..< $0 + 2], as: UTF8.self), radix: 16)! }
}

extension UInt8 {
    var isWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}

func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
}

func be64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(be32(b, at)) << 32 | UInt64(be32(b, at + 4)) }

func setBE32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0 ..< 4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(i))) }
}

/// The TOC of an index (§3.8), parsed independently of the reader.
func toc(_ b: [UInt8]) -> (offsets: [Int], from: Int64, through: Int64, crc: UInt32) {
    let t = b.count - 76
    return ((0 ..< 7).map { Int(be64(b, t + 8 * $0)) }, Int64(bitPattern: be64(b, t + 56)),
            Int64(bitPattern: be64(b, t + 64)), be32(b, t + 72))
}

/// Recomputes the CRC of the framed section whose BE32 length is at `at`.
func refreshFramedCRC(_ b: inout [UInt8], at: Int) {
    let length = Int(be32(b, at))
    setBE32(&b, at + 4 + length, CRC32C.checksum(Array(b[at + 4 ..< at + 4 + length])))
}

func refreshTOCCRC(_ b: inout [UInt8]) {
    let t = b.count - 76
    setBE32(&b, t + 72, CRC32C.checksum(Array(b[t ..< t + 72])))
}

func label(_ name: String, _ value: String) -> SeriesLabel { SeriesLabel(name: ByteString(name), value: ByteString(value)) }

/// The golden datasets, loaded once per process.
let goldens: [GoldenDataset] = try! GoldenSections.all()

func golden(_ id: String, _ dataset: Int = 0) -> GoldenDataset {
    goldens.first { $0.segmentID == id && $0.datasetIndex == dataset }!
}
