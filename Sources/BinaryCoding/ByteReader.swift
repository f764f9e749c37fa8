/// A bounds-checked cursor over bytes the caller keeps alive (zero-copy).
/// Every read checks the remaining length first and throws `DecodeError`
/// instead of trapping, so readers are total over arbitrary input.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public var offset: Int

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var count: Int { bytes.count }
    @inlinable public var remaining: Int { bytes.count - offset }
    @inlinable public var isAtEnd: Bool { offset >= bytes.count }

    @inlinable
    public func need(_ n: Int) throws(DecodeError) {
        guard n >= 0, n <= bytes.count - offset else {
            throw DecodeError(.truncated, at: offset, "need \(n) bytes, \(bytes.count - offset) left")
        }
    }

    @inlinable
    public mutating func seek(to position: Int) throws(DecodeError) {
        guard position >= 0, position <= bytes.count else {
            throw DecodeError(.malformed, at: offset, "offset \(position) outside 0...\(bytes.count)")
        }
        offset = position
    }

    @inlinable
    public mutating func skip(_ n: Int) throws(DecodeError) {
        try need(n)
        offset += n
    }

    @inlinable
    public mutating func readU8() throws(DecodeError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    @inlinable
    public mutating func readBE16() throws(DecodeError) -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable
    public mutating func readBE32() throws(DecodeError) -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable
    public mutating func readBE64() throws(DecodeError) -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable
    public mutating func readLE32() throws(DecodeError) -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable
    public mutating func readLE64() throws(DecodeError) -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Go `binary.Uvarint` / protobuf varint: at most 10 bytes, no overflow past 64 bits.
    @inlinable
    public mutating func readUvarint() throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < bytes.count else {
                throw DecodeError(.truncated, at: start, "unterminated varint")
            }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 1 {
                throw DecodeError(.malformed, at: start, "varint overflows 64 bits")
            }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 {
                throw DecodeError(.malformed, at: start, "varint longer than 10 bytes")
            }
        }
    }

    /// Go `binary.Varint`: zig-zag encoded signed varint.
    @inlinable
    public mutating func readVarint() throws(DecodeError) -> Int64 {
        let u = try readUvarint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A uvarint that must fit `Int` and not exceed `limit` (lengths and counts from the wire).
    @inlinable
    public mutating func readLength(limit: Int = Int(Int32.max)) throws(DecodeError) -> Int {
        let start = offset
        let v = try readUvarint()
        guard v <= UInt64(limit) else {
            throw DecodeError(.limitExceeded, at: start, "length \(v) exceeds \(limit)")
        }
        return Int(v)
    }

    /// A view of the next `n` bytes (no copy); valid as long as `bytes` is.
    @inlinable
    public mutating func readBytes(_ n: Int) throws(DecodeError) -> UnsafeRawBufferPointer {
        try need(n)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])
    }

    /// Length-prefixed (uvarint) bytes.
    @inlinable
    public mutating func readUvarintBytes() throws(DecodeError) -> UnsafeRawBufferPointer {
        let n = try readLength(limit: remaining)
        return try readBytes(n)
    }

    /// A reader over the next `n` bytes, offsets relative to its own start.
    @inlinable
    public mutating func subReader(_ n: Int) throws(DecodeError) -> ByteReader {
        ByteReader(try readBytes(n))
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a Swift string, replacing invalid UTF-8 (cold paths only).
    @inlinable
    public var utf8String: String { String(decoding: self, as: UTF8.self) }
}
