/// How a buffer filled piece by piece (a decompressed message, a message arriving in DATA
/// frames) grows: reserving exactly what each piece needs copies everything so far once per
/// piece, quadratic in the message; doubling copies it O(log n) times.
enum BufferGrowth {
    /// The capacity to move to when `current` cannot hold `needed` bytes: at least double,
    /// never past `limit` (`needed` ≤ `limit`).
    static func capacity(current: Int, needed: Int, limit: Int) -> Int {
        precondition(needed <= limit, "growth past the limit")
        return min(max(needed, 2 * current), limit)
    }
}
