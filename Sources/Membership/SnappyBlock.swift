import BinaryCoding

/// Decodes the snappy *block* format (google/snappy format_description.txt): the uncompressed
/// length as a varint, then literals and back-references of 1-, 2- or 4-byte offsets. dskit's
/// ring codec (`ringDesc`) stores the ring this way.
enum SnappyBlock {
    /// The decompressed bytes; a declared length above `limit` is an error.
    static func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecodeError) -> [UInt8] {
        var r = ByteReader(input)
        let declared = try r.readUvarint()
        guard declared <= UInt64(limit) else {
            throw DecodeError(.limitExceeded, at: 0, "snappy: \(declared) bytes declared, at most \(limit) taken")
        }
        let length = Int(declared)
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while !r.isAtEnd {
            let at = r.offset
            let tag = try r.readU8()
            switch tag & 3 {
            case 0:
                var n = Int(tag >> 2)
                if n >= 60 {
                    let extra = n - 59
                    n = 0
                    for k in 0 ..< extra { n |= Int(try r.readU8()) << (8 * k) }
                }
                let literal = try r.readBytes(n + 1)
                guard out.count + literal.count <= length else { throw overrun(at) }
                out.append(contentsOf: literal)
                continue
            case 1:
                let offset = Int(tag >> 5) << 8 | Int(try r.readU8())
                try copy(length: Int(tag >> 2 & 7) + 4, offset: offset, into: &out, limit: length, at: at)
            case 2:
                let offset = Int(try r.readU8()) | Int(try r.readU8()) << 8
                try copy(length: Int(tag >> 2) + 1, offset: offset, into: &out, limit: length, at: at)
            default:
                let offset = Int(try r.readLE32())
                try copy(length: Int(tag >> 2) + 1, offset: offset, into: &out, limit: length, at: at)
            }
        }
        guard out.count == length else {
            throw DecodeError(.truncated, at: r.offset, "snappy: \(out.count) of \(length) bytes decoded")
        }
        return out
    }

    /// Appends `length` bytes starting `offset` back (overlapping copies repeat a pattern).
    private static func copy(length: Int, offset: Int, into out: inout [UInt8], limit: Int, at: Int) throws(DecodeError) {
        guard offset > 0, offset <= out.count else {
            throw DecodeError(.malformed, at: at, "snappy: back-reference \(offset) with \(out.count) bytes decoded")
        }
        guard out.count + length <= limit else { throw overrun(at) }
        let start = out.count - offset
        for k in 0 ..< length { out.append(out[start + k]) }
    }

    private static func overrun(_ at: Int) -> DecodeError {
        DecodeError(.malformed, at: at, "snappy: more bytes than the declared length")
    }
}
