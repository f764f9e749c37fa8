import BinaryCoding

/// Keys, small varints and short lengths are one or two bytes in almost every field of a
/// pprof; these read them inline and hand anything else to `ProtobufReader` at the same
/// offset (same values, same errors). The generic readers are calls into BinaryCoding.
extension ProtobufReader {
    /// The byte at the read position (the next key's first byte), nil at the end of the message.
    @inline(__always)
    func peekByte() -> UInt8? {
        let o = reader.offset
        return o < reader.bytes.count ? reader.bytes.load(fromByteOffset: o, as: UInt8.self) : nil
    }

    @inline(__always)
    mutating func nextFieldFast() throws(DecodeError) -> (number: UInt32, wire: WireType)? {
        guard let key = peekByte() else { return nil }
        // A one-byte key with field number ≥ 1 and a wire type `nextField` accepts.
        if key < 0x80, key >= 8, let wire = WireType(rawValue: key & 7) {
            reader.offset &+= 1
            return (UInt32(key >> 3), wire)
        }
        return try nextField()
    }

    /// A varint of one or two bytes at offset `o` (string indices, ids of a few thousand and
    /// lengths below 2^14): its value and the offset after it; nil for a longer varint or one
    /// the message's end cuts, which the generic readers then read (and report).
    @inline(__always)
    func shortVarint(at o: Int) -> (value: Int, next: Int)? {
        let count = reader.bytes.count
        guard o < count else { return nil }
        let b0 = Int(reader.bytes.load(fromByteOffset: o, as: UInt8.self))
        if b0 < 0x80 { return (b0, o + 1) }
        guard o + 1 < count else { return nil }
        let b1 = Int(reader.bytes.load(fromByteOffset: o + 1, as: UInt8.self))
        return b1 < 0x80 ? (b0 & 0x7F | b1 << 7, o + 2) : nil
    }

    @inline(__always)
    mutating func readVarintFast() throws(DecodeError) -> UInt64 {
        if let (value, next) = shortVarint(at: reader.offset) {
            reader.offset = next
            return UInt64(value)
        }
        return try readVarint()
    }

    @inline(__always)
    mutating func readLengthDelimitedFast() throws(DecodeError) -> UnsafeRawBufferPointer {
        if let (n, start) = shortVarint(at: reader.offset), n <= reader.bytes.count - start {
            // n ≤ count − start, so `bytes` is not empty and its base not nil.
            reader.offset = start + n
            return UnsafeRawBufferPointer(start: reader.bytes.baseAddress.unsafelyUnwrapped + start, count: n)
        }
        return try readLengthDelimited()
    }
}
