/// A cheap 64-bit mixer for in-memory dedup keys (never persisted, so any good mix works;
/// equality is always checked on the full key).
enum HashMix {
    @inline(__always)
    static func mix(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        var x = (acc ^ v) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        x = x &* 0xBF58_476D_1CE4_E5B9
        return x ^ (x >> 32)
    }

    /// A byte-string hash for the in-memory string index: 16 bytes per 64×64→128-bit multiply
    /// (the wyhash construction), several times fewer instructions than XXH64 on symbol names.
    @inline(__always)
    static func bytes(_ s: UnsafeRawBufferPointer) -> UInt64 {
        let n = s.count
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(truncatingIfNeeded: n)
        var i = 0
        // Wrapping index arithmetic: offsets stay within the buffer's count.
        while i &+ 16 <= n {
            h = fold(s.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ k1 ^ h,
                     s.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self) ^ k2)
            i &+= 16
        }
        // The last 0–15 bytes, read as two (possibly overlapping) words.
        var a: UInt64 = 0, b: UInt64 = 0
        let rest = n &- i
        if rest >= 8 {
            a = s.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            b = s.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        } else if rest >= 4 {
            a = UInt64(s.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            b = UInt64(s.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self))
        } else if rest > 0 {
            a = UInt64(s[i]) << 16 | UInt64(s[i &+ rest / 2]) << 8 | UInt64(s[n &- 1])
        }
        return fold(fold(a ^ k1 ^ h, b ^ k2), k3 ^ UInt64(truncatingIfNeeded: n))
    }

    private static let k1: UInt64 = 0xA076_1D64_78BD_642F
    private static let k2: UInt64 = 0xE703_7ED1_A0B4_28DB
    private static let k3: UInt64 = 0x8EBC_6AF0_9C88_C6E3

    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }
}
