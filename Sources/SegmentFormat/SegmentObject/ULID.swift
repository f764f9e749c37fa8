import BinaryCoding

/// A block ID (segment-object.md §8): 48-bit Unix-ms time and 80 random bits, written as 26
/// Crockford base32 characters, upper case. Pure: the caller supplies time and entropy.
public struct ULID: Hashable, Sendable, CustomStringConvertible {
    /// The 128-bit value, big-endian halves.
    public let high: UInt64
    public let low: UInt64

    public static let maxTimeMs: UInt64 = (1 << 48) - 1
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// `timeMs` is the segment's open time (wall clock); `entropy` 10 random bytes.
    public init(timeMs: UInt64, entropy: [UInt8]) {
        precondition(timeMs <= Self.maxTimeMs, "ULID time beyond 48 bits")
        precondition(entropy.count == 10, "ULID needs 10 bytes of entropy")
        var lo: UInt64 = 0
        for b in entropy[2...] { lo = lo << 8 | UInt64(b) }
        high = timeMs << 16 | UInt64(entropy[0]) << 8 | UInt64(entropy[1])
        low = lo
    }

    public var timeMs: UInt64 { high >> 16 }

    /// The 26 characters, as `ulid.ULID.String()` writes them.
    public var text: [UInt8] {
        var out = [UInt8](repeating: 0, count: 26)
        for i in 0 ..< 26 {
            out[i] = Self.alphabet[Int(fiveBits(at: (25 - i) * 5))]
        }
        return out
    }

    public var description: String { String(decoding: text, as: UTF8.self) }
    public var byteString: ByteString { ByteString(text) }

    /// Bits `[position, position+5)` of the 128-bit value (bits past 127 read as zero).
    private func fiveBits(at position: Int) -> UInt64 {
        if position >= 64 { return (high >> UInt64(position - 64)) & 31 }
        if position + 5 <= 64 { return (low >> UInt64(position)) & 31 }
        // Straddles the halves.
        return ((low >> UInt64(position)) | (high << UInt64(64 - position))) & 31
    }

    /// Parses as the metastore validates (`ulid.Parse`): 26 characters, the first at most
    /// `7` (else the value overflows 128 bits). Unlike `ulid.Parse`, characters outside
    /// the Crockford alphabet (either case) are rejected instead of decoded as garbage.
    public init(parsing text: some Collection<UInt8>) throws(DecodeError) {
        guard text.count == 26 else {
            throw DecodeError(.malformed, at: 0, "ULID must be 26 characters, got \(text.count)")
        }
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for (i, c) in text.enumerated() {
            guard let d = Self.digit(c) else {
                throw DecodeError(.malformed, at: i, "invalid ULID character 0x\(String(c, radix: 16))")
            }
            if i == 0 && d > 7 {
                throw DecodeError(.malformed, at: 0, "ULID first character must be 0...7")
            }
            hi = hi << 5 | lo >> 59
            lo = lo << 5 | UInt64(d)
        }
        (high, low) = (hi, lo)
    }

    public init(parsing text: String) throws(DecodeError) {
        try self.init(parsing: Array(text.utf8))
    }

    private static func digit(_ c: UInt8) -> UInt8? {
        var c = c
        if c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") { c -= 32 }
        guard let i = alphabet.firstIndex(of: c) else { return nil }
        return UInt8(i)
    }
}
