import Synchronization

/// `-segment-writer.upload-hedge-rate-max` / `-burst`: hedged uploads per second, as
/// `x/time/rate` grants them (a zero rate grants only the burst, ingest-and-ops.md §5.1).
/// Shared by every loop; taken only when an upload is already slow (cold path).
final class TokenBucket: Sendable {
    private struct State {
        var tokens: Double
        var lastNs: UInt64
        /// A zero rate's grants left: `x/time/rate` spends the burst itself then.
        var burst: Double
    }

    /// A token due later than this (about 146 years) counts as never, even without a deadline:
    /// the caller's timer adds the wait to the clock.
    static let waitNsLimit: Double = 0x1p62

    let ratePerSecond: Double
    private let state: Mutex<State>

    init(ratePerSecond: Double, burst: Int, nowNs: UInt64) {
        self.ratePerSecond = max(0, ratePerSecond)
        state = Mutex(State(tokens: Double(max(0, burst)), lastNs: nowNs, burst: Double(max(0, burst))))
    }

    /// Reserves one token, as `Limiter.Wait` does: the nanoseconds until it is due (0: now),
    /// or nil, reserving nothing, when it would come later than `waitNsMax` (or `waitNsLimit`) or never.
    func reserve(nowNs: UInt64, waitNsMax: UInt64) -> UInt64? {
        state.withLock { s in
            guard ratePerSecond > 0 else {
                guard s.burst >= 1 else { return nil }
                s.burst -= 1
                return 0
            }
            guard s.burst >= 1 else { return nil }
            let elapsed = Double(nowNs &- min(nowNs, s.lastNs)) / 1e9
            let tokens = min(s.burst, s.tokens + elapsed * ratePerSecond) - 1
            let waitNs = tokens < 0 ? (-tokens / ratePerSecond * 1e9).rounded(.up) : 0
            // Compared as a Double first: a tiny rate's wait is past UInt64's range.
            guard waitNs <= Self.waitNsLimit, UInt64(waitNs) <= waitNsMax else { return nil }
            s.tokens = tokens
            s.lastNs = max(s.lastNs, nowNs)
            return UInt64(waitNs)
        }
    }
}
