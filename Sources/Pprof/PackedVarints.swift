import BinaryCoding

/// A repeated 64-bit varint field, one element (unpacked) or a packed run.
@inline(__always)
func appendRepeated(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32,
                    into column: inout RawColumn<UInt64>) throws(DecodeError) {
    switch wire {
    case .varint:
        column.append(try r.readVarintFast())
    case .lengthDelimited:
        try appendPacked(try r.readLengthDelimitedFast(), into: &column)
    default:
        throw wrongWire(r, wire, field)
    }
}

/// Decodes a packed varint run straight into `column` (room for the payload length, an upper
/// bound of the count, is reserved first). A varint longer than 9 bytes or cut off at the end
/// takes the element-by-element `ByteReader` path instead, so values and errors stay the same
/// (its offsets are relative to the run, as they always were).
@inline(__always)
func appendPacked(_ payload: UnsafeRawBufferPointer, into column: inout RawColumn<UInt64>) throws(DecodeError) {
    guard !payload.isEmpty else { return }
    column.reserve(payload.count)
    if let n = PackedVarints.decode(payload, into: column.end) {
        column.count &+= n
        return
    }
    var packed = ByteReader(payload)
    while !packed.isAtEnd { column.append(try packed.readUvarint()) }
}

enum PackedVarints {
    private static let continuationBits: UInt64 = 0x8080_8080_8080_8080
    /// The continuation bits of four two-byte varints in a row.
    private static let twoByteBits: UInt64 = 0x0080_0080_0080_0080

    /// Decodes every varint of a non-empty `payload` into `out` (room for `payload.count`) and
    /// returns how many; nil when one is longer than 9 bytes (64-bit overflow is only possible
    /// beyond that) or unterminated, which the caller's slow path reports.
    ///
    /// Eight one-byte varints in a row (ids of small profiles, most values) are widened from
    /// one 64-bit load with SIMD; otherwise the varints starting in the next eight bytes are
    /// read one by one, one- and two-byte ones without the byte loop and, while nine bytes
    /// remain, without a bounds check for the second byte.
    @inline(__always)
    static func decode(_ payload: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt64>) -> Int? {
        var q = payload.baseAddress!
        let end = q + payload.count
        var n = 0
        while end - q >= 9 {
            let w = UInt64(littleEndian: q.loadUnaligned(as: UInt64.self))
            if w & continuationBits == 0 {
                let wide = SIMD8<UInt64>(truncatingIfNeeded: unsafeBitCast(w.littleEndian, to: SIMD8<UInt8>.self))
                UnsafeMutableRawPointer(out + n).storeBytes(of: wide, as: SIMD8<UInt64>.self)
                n &+= 8
                q += 8
                continue
            }
            if w & continuationBits == twoByteBits {
                // Four two-byte varints (ids of a few thousand locations, deep frames in a row).
                let lanes = w & 0x007F_007F_007F_007F | w >> 1 & 0x3F80_3F80_3F80_3F80
                out[n] = lanes & 0xFFFF
                out[n &+ 1] = lanes >> 16 & 0xFFFF
                out[n &+ 2] = lanes >> 32 & 0xFFFF
                out[n &+ 3] = lanes >> 48
                n &+= 4
                q += 8
                continue
            }
            let stop = q + 8
            repeat {
                let b0 = q.load(as: UInt8.self)
                if b0 < 0x80 {
                    out[n] = UInt64(b0)
                    n &+= 1
                    q += 1
                    continue
                }
                let b1 = (q + 1).load(as: UInt8.self) // q + 1 < stop + 1 ≤ end
                if b1 < 0x80 {
                    out[n] = UInt64(b0 & 0x7F) | UInt64(b1) << 7
                    n &+= 1
                    q += 2
                    continue
                }
                guard let (v, next) = longVarint(q, end) else { return nil }
                out[n] = v
                n &+= 1
                q = next
            } while q < stop
        }
        while q < end {
            let b0 = q.load(as: UInt8.self)
            if b0 < 0x80 {
                out[n] = UInt64(b0)
                n &+= 1
                q += 1
                continue
            }
            if end - q >= 2 {
                let b1 = (q + 1).load(as: UInt8.self)
                if b1 < 0x80 {
                    out[n] = UInt64(b0 & 0x7F) | UInt64(b1) << 7
                    n &+= 1
                    q += 2
                    continue
                }
            }
            guard let (v, next) = longVarint(q, end) else { return nil }
            out[n] = v
            n &+= 1
            q = next
        }
        return n
    }

    /// The varint at `start` when it ends within the eight bytes there (all readable): the 7-bit
    /// groups below the first stop bit, packed, from one load. Addresses are five or six bytes,
    /// six to eight iterations of a byte loop.
    @inline(__always)
    static func varintOfAWord(_ start: UnsafeRawPointer) -> (UInt64, UnsafeRawPointer)? {
        let w = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
        let stops = ~w & continuationBits
        guard stops != 0 else { return nil }
        let bits = stops.trailingZeroBitCount &+ 1 // 8 × the varint's length
        var x = w & 0x7F7F_7F7F_7F7F_7F7F & (bits == 64 ? ~0 : (1 &<< UInt64(bits)) &- 1)
        x = x & 0x007F_007F_007F_007F | x >> 1 & 0x3F80_3F80_3F80_3F80
        x = x & 0x0000_3FFF_0000_3FFF | x >> 2 & 0x0FFF_C000_0FFF_C000
        x = x & 0x0000_0000_0FFF_FFFF | x >> 4 & 0x00FF_FFFF_F000_0000
        return (x, start + bits &>> 3)
    }

    /// A varint of two to nine bytes at `start`; nil when longer or unterminated before `end`.
    @inline(__always)
    static func longVarint(_ start: UnsafeRawPointer, _ end: UnsafeRawPointer) -> (UInt64, UnsafeRawPointer)? {
        var q = start
        var b = q.load(as: UInt8.self)
        q += 1
        var v = UInt64(b & 0x7F)
        var shift: UInt64 = 7
        while b >= 0x80 {
            guard q < end, shift < 63 else { return nil }
            b = q.load(as: UInt8.self)
            q += 1
            v |= UInt64(b & 0x7F) << shift
            shift += 7
        }
        return (v, q)
    }
}
