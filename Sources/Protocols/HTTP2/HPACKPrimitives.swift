import BinaryCoding

/// RFC 7541 §5.1 integers and §5.2 strings.
enum HPACKPrimitive {
    /// Largest integer accepted from the wire: well above any table index, size or string
    /// length a bounded peer sends, and small enough that no arithmetic on it overflows.
    static let integerMax = 1 << 28

    static func appendInteger(_ value: Int, prefixBits: Int, firstByte: UInt8, into w: inout ByteWriter) {
        precondition(value >= 0 && (1...8).contains(prefixBits))
        let max = (1 << prefixBits) - 1
        if value < max {
            w.append(firstByte | UInt8(value))
            return
        }
        w.append(firstByte | UInt8(max))
        var rest = value - max
        while rest >= 128 {
            w.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        w.append(UInt8(rest))
    }

    static func readInteger(_ r: inout ByteReader, prefixBits: Int) throws(HTTP2ProtocolError) -> Int {
        let max = (1 << prefixBits) - 1
        var value = Int(try byte(&r)) & max
        if value < max { return value }
        // §5.1: an encoding past the limit in length is an error too. Five continuation bytes
        // reach 2^28, and stopping there keeps the shift far from wrapping the value negative.
        for shift in stride(from: 0, through: 28, by: 7) {
            let b = try byte(&r)
            value += Int(b & 0x7f) << shift
            if value > integerMax { break }
            if b & 0x80 == 0 { return value }
        }
        throw .connection(.compressionError, "HPACK integer exceeds \(integerMax)")
    }

    /// Reads a string literal; `limit` bounds its length before anything is copied.
    static func readString(_ r: inout ByteReader, limit: Int) throws(HTTP2ProtocolError) -> ByteString {
        guard !r.isAtEnd else { throw truncated }
        let huffman = r.bytes[r.offset] & 0x80 != 0
        let length = try readInteger(&r, prefixBits: 7)
        guard length <= r.remaining else { throw truncated }
        guard length <= limit else { throw .connection(.compressionError, "HPACK string of \(length) bytes exceeds \(limit)") }
        guard let raw = try? r.readBytes(length) else { throw truncated }
        if !huffman { return ByteString(raw) }
        var out: [UInt8] = []
        try HPACKHuffman.decode(raw, into: &out)
        return ByteString(out)
    }

    static func appendString(_ s: ByteString, huffman: Bool, into w: inout ByteWriter) {
        if huffman {
            appendInteger(HPACKHuffman.encodedCount(s.bytes), prefixBits: 7, firstByte: 0x80, into: &w)
            HPACKHuffman.encode(s.bytes, into: &w)
        } else {
            appendInteger(s.count, prefixBits: 7, firstByte: 0, into: &w)
            w.append(s)
        }
    }

    private static func byte(_ r: inout ByteReader) throws(HTTP2ProtocolError) -> UInt8 {
        guard let b = try? r.readU8() else { throw truncated }
        return b
    }

    static let truncated = HTTP2ProtocolError.connection(.compressionError, "HPACK block truncated")
}
