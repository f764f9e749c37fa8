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

    /// One- and two-byte varints inline (string indices and ids of a few thousand are two).
    @inline(__always)
    mutating func readVarintFast() throws(DecodeError) -> UInt64 {
        let o = reader.offset
        let count = reader.bytes.count
        if o < count {
            let b0 = reader.bytes.load(fromByteOffset: o, as: UInt8.self)
            if b0 < 0x80 {
                reader.offset = o + 1
                return UInt64(b0)
            }
            if o + 1 < count {
                let b1 = reader.bytes.load(fromByteOffset: o + 1, as: UInt8.self)
                if b1 < 0x80 {
                    reader.offset = o + 2
                    return UInt64(b0 & 0x7F) | UInt64(b1) << 7
                }
            }
        }
        return try readVarint()
    }

    /// Lengths below 2^14 inline.
    @inline(__always)
    mutating func readLengthDelimitedFast() throws(DecodeError) -> UnsafeRawBufferPointer {
        let o = reader.offset
        let count = reader.bytes.count
        if o < count {
            var n = Int(reader.bytes.load(fromByteOffset: o, as: UInt8.self))
            var start = o + 1
            if n >= 0x80, start < count {
                let b1 = Int(reader.bytes.load(fromByteOffset: start, as: UInt8.self))
                n = b1 < 0x80 ? n & 0x7F | b1 << 7 : Int.max
                start += 1
            }
            if n <= count - start { // then `bytes` is not empty, its base not nil
                reader.offset = start + n
                return UnsafeRawBufferPointer(start: reader.bytes.baseAddress.unsafelyUnwrapped + start, count: n)
            }
        }
        return try readLengthDelimited()
    }
}
