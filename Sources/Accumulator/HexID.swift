/// Span and trace ids carried as hex in sample labels (profiles-parquet.md §2.5).
enum HexID {
    /// 16 hex chars → 8 bytes read little-endian.
    static func span(_ s: UnsafeRawBufferPointer) -> UInt64? {
        guard s.count == 16 else { return nil }
        var v: UInt64 = 0
        for i in 0 ..< 8 {
            guard let hi = nibble(s[2 * i]), let lo = nibble(s[2 * i + 1]) else { return nil }
            v |= UInt64(hi << 4 | lo) << (8 * i)
        }
        return v
    }

    /// 32 hex chars → 16 bytes; the first byte is the most significant (ProfileColumns' UInt128).
    static func trace(_ s: UnsafeRawBufferPointer) -> UInt128? {
        guard s.count == 32 else { return nil }
        var v: UInt128 = 0
        for i in 0 ..< 16 {
            guard let hi = nibble(s[2 * i]), let lo = nibble(s[2 * i + 1]) else { return nil }
            v = v << 8 | UInt128(hi << 4 | lo)
        }
        return v
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
