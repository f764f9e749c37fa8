import BinaryCoding

/// Decompresses what Go's `compress/lzw` writes with `LSB` order and 8-bit literals, memberlist's
/// compression of a push/pull (`compressMsg`, algorithm 0): codes of 9 to 12 bits, least
/// significant bit first; 256 clears the table, 257 ends the stream. A full table (4096 codes)
/// stops growing until the next clear, as Go's reader does.
enum LZWDecoder {
    private static let clear = 256, end = 257, maxWidth = 12
    private static let invalid = -1

    /// The decompressed bytes; more than `limit` of them is an error.
    static func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecodeError) -> [UInt8] {
        var prefix = [Int](repeating: 0, count: 1 << maxWidth)
        var suffix = [UInt8](repeating: 0, count: 1 << maxWidth)
        var out: [UInt8] = []
        var expansion = [UInt8](repeating: 0, count: 1 << maxWidth)
        var width = 9, hi = end, overflow = 1 << 9, last = invalid
        var bits: UInt32 = 0, bitCount = 0, position = 0
        while true {
            while bitCount < width {
                guard position < input.count else {
                    throw DecodeError(.truncated, at: position, "lzw: the stream ends without its end code")
                }
                bits |= UInt32(input[position]) << UInt32(bitCount)
                position += 1
                bitCount += 8
            }
            let code = Int(bits & (1 << UInt32(width) - 1))
            bits >>= UInt32(width)
            bitCount -= width
            if code == clear {
                width = 9
                hi = end
                overflow = 1 << width
                last = invalid
                continue
            }
            if code == end { return out }
            guard code <= hi else {
                throw DecodeError(.malformed, at: position, "lzw: code \(code) is not in the table")
            }
            // The code's string, built backwards at the end of `expansion`.
            var i = expansion.count
            var c = code
            if code == hi && last != invalid {
                // The last string followed by its own first byte.
                var head = last
                while head >= clear { head = prefix[head] }
                i -= 1
                expansion[i] = UInt8(head)
                c = last
            }
            while c >= clear {
                i -= 1
                expansion[i] = suffix[c]
                c = prefix[c]
            }
            i -= 1
            expansion[i] = UInt8(c)
            guard out.count + expansion.count - i <= limit else {
                throw DecodeError(.limitExceeded, at: position, "lzw: more than \(limit) bytes decompressed")
            }
            out.append(contentsOf: expansion[i...])
            if last != invalid {
                suffix[hi] = UInt8(c)
                prefix[hi] = last
            }
            last = code
            hi += 1
            if hi >= overflow {
                if width == maxWidth {
                    last = invalid
                    hi -= 1
                } else {
                    width += 1
                    overflow = 1 << width
                }
            }
        }
    }
}
