import BinaryCoding

/// HPACK Huffman coding (RFC 7541 §5.2, Appendix B).
enum HPACKHuffman {
    /// Decoding tree: node `n` has children at `tree[2n]` (bit 0) and `tree[2n+1]` (bit 1).
    /// A child `>= 0` is an inner node; `< 0` is the leaf for symbol `-(child + 1)`.
    static let tree: [Int32] = {
        var t: [Int32] = [0, 0]
        for symbol in 0..<257 {
            let code = HuffmanCodeTable.codes[symbol]
            let length = Int(HuffmanCodeTable.lengths[symbol])
            var node = 0
            for bit in stride(from: length - 1, through: 0, by: -1) {
                let slot = 2 * node + Int((code >> UInt32(bit)) & 1)
                if bit == 0 {
                    t[slot] = -Int32(symbol) - 1
                } else {
                    if t[slot] == 0 {
                        t[slot] = Int32(t.count / 2)
                        t.append(contentsOf: [0, 0])
                    }
                    node = Int(t[slot])
                }
            }
        }
        return t
    }()

    /// Number of bytes `bytes` encodes to.
    static func encodedCount(_ bytes: [UInt8]) -> Int {
        var bits = 0
        for b in bytes { bits += Int(HuffmanCodeTable.lengths[Int(b)]) }
        return (bits + 7) / 8
    }

    static func encode(_ bytes: [UInt8], into w: inout ByteWriter) {
        var acc: UInt64 = 0
        var n = 0
        for b in bytes {
            let length = Int(HuffmanCodeTable.lengths[Int(b)])
            acc = acc << UInt64(length) | UInt64(HuffmanCodeTable.codes[Int(b)])
            n += length
            while n >= 8 {
                n -= 8
                w.append(UInt8(truncatingIfNeeded: acc >> UInt64(n)))
            }
        }
        if n > 0 {
            // §5.2: pad with the most significant bits of EOS (all ones).
            w.append(UInt8(truncatingIfNeeded: acc << UInt64(8 - n)) | UInt8(0xff >> n))
        }
    }

    /// Decodes `bytes`; EOS inside the string, padding longer than 7 bits or padding that is
    /// not all ones is a decoding error (§5.2).
    static func decode(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(HTTP2ProtocolError) {
        out.reserveCapacity(out.count + bytes.count * 8 / 5 + 1)
        var node = 0
        var bitsSinceSymbol = 0
        var paddingAllOnes = true
        for byte in bytes {
            for shift in stride(from: 7, through: 0, by: -1) {
                let bit = Int((byte >> UInt8(shift)) & 1)
                let next = tree[2 * node + bit]
                bitsSinceSymbol += 1
                paddingAllOnes = paddingAllOnes && bit == 1
                if next < 0 {
                    let symbol = Int(-(next + 1))
                    if symbol == 256 { throw .connection(.compressionError, "HPACK Huffman string contains EOS") }
                    out.append(UInt8(symbol))
                    node = 0
                    bitsSinceSymbol = 0
                    paddingAllOnes = true
                } else {
                    node = Int(next)
                }
            }
        }
        if bitsSinceSymbol > 7 || !paddingAllOnes {
            throw .connection(.compressionError, "HPACK Huffman padding invalid")
        }
    }
}
