import Synchronization

/// `-segment-writer.upload-hedge-rate-max` / `-burst`: hedged uploads per second, as
/// `x/time/rate` grants them (a zero rate grants only the burst, ingest-and-ops.md §5.1).
/// Shared by every loop; taken only when an upload is already slow (cold path).
final class TokenBucket: Sendable {
    private struct State {
        var tokens: Double
        var lastNs: UInt64
    }

    let ratePerSecond: Double
    let burst: Double
    private let state: Mutex<State>

    init(ratePerSecond: Double, burst: Int, nowNs: UInt64) {
        self.ratePerSecond = max(0, ratePerSecond)
        self.burst = Double(max(0, burst))
        state = Mutex(State(tokens: Double(max(0, burst)), lastNs: nowNs))
    }

    /// Takes one token if there is one.
    func allow(nowNs: UInt64) -> Bool {
        state.withLock { s in
            let elapsed = Double(nowNs &- min(nowNs, s.lastNs)) / 1e9
            s.tokens = min(burst, s.tokens + elapsed * ratePerSecond)
            s.lastNs = max(s.lastNs, nowNs)
            guard s.tokens >= 1 else { return false }
            s.tokens -= 1
            return true
        }
    }
}
