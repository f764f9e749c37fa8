/// The snappy *block* format (google/snappy format_description.txt) written as literals only:
/// the uncompressed length as a varint, then literal elements of at most 2^32 bytes. Valid
/// input for every snappy decoder; dskit's ring codec (`ringDesc`) wraps its protobuf in it,
/// and a one-instance ring is too small for back-references to matter.
enum SnappyLiterals {
    static func encode(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count + 16)
        var n = UInt64(input.count)
        while n >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
        var start = 0
        while start < input.count {
            let count = min(input.count - start, 65_536)
            let lengthMinusOne = count - 1
            if lengthMinusOne < 60 {
                out.append(UInt8(lengthMinusOne) << 2)
            } else if lengthMinusOne < 256 {
                out.append(60 << 2)
                out.append(UInt8(lengthMinusOne))
            } else {
                out.append(61 << 2)
                out.append(UInt8(truncatingIfNeeded: lengthMinusOne))
                out.append(UInt8(truncatingIfNeeded: lengthMinusOne >> 8))
            }
            out.append(contentsOf: input[start ..< start + count])
            start += count
        }
        return out
    }
}
