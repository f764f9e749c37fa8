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
}
