import BinaryCoding

/// dgryski/go-groupvarint `Encode4` (symdb.md §6.2): one control byte, then four little-endian
/// values of 1 to 4 bytes each, value k taking `((ctrl >> 2k) & 3) + 1` bytes.
enum GroupVarint {
    static func byteCount(_ v: UInt32) -> Int {
        v < 1 << 8 ? 1 : v < 1 << 16 ? 2 : v < 1 << 24 ? 3 : 4
    }

    /// The most bytes one group takes.
    static let maxGroupBytes = 17

    static func append(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, into w: inout ByteWriter) {
        let start = w.count
        w.appendZeros(maxGroupBytes)
        let n = w.bytes.withUnsafeMutableBufferPointer { out in
            var next = out.baseAddress! + start
            write(a, b, c, d, to: &next)
            return (out.baseAddress! + start).distance(to: next)
        }
        w.bytes.removeLast(maxGroupBytes - n)
    }

    /// Writes one group at `next` (which must have `maxGroupBytes` bytes of room) and advances it.
    @inline(__always)
    static func write(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, to next: inout UnsafeMutablePointer<UInt8>) {
        let la = byteCount(a), lb = byteCount(b), lc = byteCount(c), ld = byteCount(d)
        next.pointee = UInt8((la - 1) | (lb - 1) << 2 | (lc - 1) << 4 | (ld - 1) << 6)
        next += 1
        put(a, la, &next)
        put(b, lb, &next)
        put(c, lc, &next)
        put(d, ld, &next)
    }

    /// Stores all 4 bytes of `v` and moves past its `n` significant ones (the room covers it).
    @inline(__always)
    private static func put(_ v: UInt32, _ n: Int, _ next: inout UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(next).storeBytes(of: v.littleEndian, as: UInt32.self)
        next += n
    }

    /// Reads one group. Non-minimal lengths are rejected so a decoded tree re-encodes exactly.
    static func read(_ r: inout ByteReader) throws(DecodeError) -> (UInt32, UInt32, UInt32, UInt32) {
        let start = r.offset
        let control = try r.readU8()
        var values: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        for k in 0 ..< 4 {
            let n = Int(control >> UInt8(2 * k) & 3) + 1
            let bytes = try r.readBytes(n)
            var v: UInt32 = 0
            for i in 0 ..< n { v |= UInt32(bytes[i]) << UInt32(8 * i) }
            guard byteCount(v) == n else {
                throw DecodeError(.malformed, at: start, "group varint value \(v) stored in \(n) bytes")
            }
            switch k {
            case 0: values.0 = v
            case 1: values.1 = v
            case 2: values.2 = v
            default: values.3 = v
            }
        }
        return values
    }
}
