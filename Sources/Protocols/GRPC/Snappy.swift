import BinaryCoding

/// `grpc-encoding: snappy` as dskit registers it: the snappy *framed* stream format
/// (google/snappy framing_format.txt), ingest-and-ops.md §1.6.
public enum SnappyFramed {
    static let streamIdentifier: [UInt8] = [0xff, 0x06, 0x00, 0x00] + Array("sNaPpY".utf8)
    /// framing_format.txt §4.2: a chunk holds at most 65,536 uncompressed bytes.
    static let chunkBytesMax = 65_536

    /// Decompresses a framed stream, checking every chunk's masked CRC-32C and failing once
    /// the output would pass `limit` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionFailure) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        var sawIdentifier = false
        while i < input.count {
            guard input.count - i >= 4 else { throw .corrupt }
            let type = input[i]
            let length = Int(input[i + 1]) | Int(input[i + 2]) << 8 | Int(input[i + 3]) << 16
            i += 4
            guard length <= input.count - i else { throw .corrupt }
            let chunk = UnsafeRawBufferPointer(rebasing: input[i..<(i + length)])
            i += length
            if !sawIdentifier && type != 0xff { throw .corrupt }  // the stream must open with it
            switch type {
            case 0xff:
                guard chunk.elementsEqual(streamIdentifier[4...]) else { throw .corrupt }
                sawIdentifier = true
            case 0x00, 0x01:
                guard chunk.count >= 4 else { throw .corrupt }
                let expected = UInt32(chunk[0]) | UInt32(chunk[1]) << 8 | UInt32(chunk[2]) << 16 | UInt32(chunk[3]) << 24
                let body = UnsafeRawBufferPointer(rebasing: chunk[4...])
                let start = out.count
                if type == 0x00 {
                    try SnappyBlock.decompress(body, into: &out, lengthMax: chunkBytesMax, limit: limit)
                } else {
                    guard body.count <= chunkBytesMax else { throw .corrupt }
                    guard start + body.count <= limit else { throw .exceedsLimit(limit) }
                    out.append(contentsOf: body)
                }
                let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
                guard mask(crc) == expected else { throw .corrupt }
            case 0x02...0x7f:
                throw .corrupt  // reserved unskippable
            default:
                break  // 0x80...0xfe: skippable and padding
            }
        }
        return out
    }

    /// framing_format.txt §3: the stored CRC is rotated and offset.
    static func mask(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8 }
}

/// The snappy block format (google/snappy format_description.txt).
enum SnappyBlock {
    /// Appends the block's output: at most `lengthMax` bytes, and `out` never past `limit`.
    static func decompress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], lengthMax: Int, limit: Int) throws(DecompressionFailure) {
        var r = ByteReader(input)
        guard let declared = try? r.readUvarint(), declared <= UInt64(lengthMax) else { throw .corrupt }
        let start = out.count
        guard start + Int(declared) <= limit else { throw .exceedsLimit(limit) }
        let end = start + Int(declared)
        if out.capacity < end { out.reserveCapacity(BufferGrowth.capacity(current: out.capacity, needed: end, limit: limit)) }
        var i = r.offset
        while i < input.count {
            let tag = input[i]
            i += 1
            var length: Int
            var offset: Int
            switch tag & 3 {
            case 0:  // literal; lengths above 60 follow in 1...4 little-endian bytes
                length = Int(tag >> 2) + 1
                if length > 60 {
                    let extra = length - 60
                    guard input.count - i >= extra else { throw .corrupt }
                    length = 0
                    for k in 0..<extra { length |= Int(input[i + k]) << (8 * k) }
                    length += 1
                    i += extra
                }
                guard length <= input.count - i, out.count + length <= end else { throw .corrupt }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + length)]))
                i += length
                continue
            case 1:
                guard i < input.count else { throw .corrupt }
                length = Int((tag >> 2) & 7) + 4
                offset = Int(tag >> 5) << 8 | Int(input[i])
                i += 1
            case 2:
                guard input.count - i >= 2 else { throw .corrupt }
                length = Int(tag >> 2) + 1
                offset = Int(input[i]) | Int(input[i + 1]) << 8
                i += 2
            default:
                guard input.count - i >= 4 else { throw .corrupt }
                length = Int(tag >> 2) + 1
                offset = Int(input[i]) | Int(input[i + 1]) << 8 | Int(input[i + 2]) << 16 | Int(input[i + 3]) << 24
                i += 4
            }
            guard offset > 0, offset <= out.count - start, out.count + length <= end else { throw .corrupt }
            // Copies may overlap their own output (offset < length): byte by byte.
            var from = out.count - offset
            for _ in 0..<length {
                out.append(out[from])
                from += 1
            }
        }
        guard out.count == end else { throw .corrupt }
    }
}
