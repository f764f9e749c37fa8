/// An append-only byte buffer that encoders write into. The caller owns it and
/// may hand `bytes` on (e.g. to the uploader) without a copy; encoders append
/// at the end, so one writer can carry a whole object section after section.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]

    @inlinable
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable public var count: Int { bytes.count }

    @inlinable
    public mutating func append(_ b: UInt8) { bytes.append(b) }

    @inlinable
    public mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    @inlinable
    public mutating func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }

    @inlinable
    public mutating func appendZeros(_ n: Int) {
        bytes.append(contentsOf: repeatElement(0, count: n))
    }

    /// Pads with zeros until `count - base` is a multiple of `alignment`.
    @inlinable
    public mutating func pad(toMultipleOf alignment: Int, from base: Int = 0) {
        let rem = (count - base) % alignment
        if rem != 0 { appendZeros(alignment - rem) }
    }

    @inlinable
    public mutating func appendBE16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable
    public mutating func appendBE32(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func appendBE64(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func appendLE32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func appendLE64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func appendUvarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Go `binary.PutVarint` (zig-zag).
    @inlinable
    public mutating func appendVarint(_ v: Int64) {
        appendUvarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    @inlinable
    public mutating func setBE32(_ v: UInt32, at position: Int) {
        precondition(position >= 0 && position + 4 <= count, "patch outside the buffer")
        bytes[position] = UInt8(truncatingIfNeeded: v >> 24)
        bytes[position + 1] = UInt8(truncatingIfNeeded: v >> 16)
        bytes[position + 2] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[position + 3] = UInt8(truncatingIfNeeded: v)
    }

    /// CRC-32C of `bytes[range]`.
    @inlinable
    public func crc32c(_ range: Range<Int>) -> UInt32 {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "CRC range outside the buffer")
        return bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    @inlinable
    public static func uvarintSize(_ v: UInt64) -> Int {
        v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
    }
}
