/// Open-loop schedule: push k is due at `startNs + k / rate`, whatever happened to the
/// pushes before it. Latency is measured from that intended time, so a stalled server is
/// charged for the pushes it delayed (no coordinated omission).
public struct OpenLoopPacer: Sendable {
    public let startNs: UInt64
    public let intervalNs: Double
    /// Pushes handed out so far.
    public private(set) var issued: UInt64 = 0

    public init(startNs: UInt64, pushesPerSecond: Double) {
        precondition(pushesPerSecond > 0, "an open-loop rate must be positive")
        self.startNs = startNs
        intervalNs = 1e9 / pushesPerSecond
    }

    /// The intended send time of push `k`.
    public func intendedNs(_ k: UInt64) -> UInt64 { startNs &+ UInt64((Double(k) * intervalNs).rounded(.down)) }

    /// The intended time of the next push if it is due at `nowNs` and before `endNs`
    /// (pushes from `endNs` on are not issued); advances past it.
    public mutating func nextDue(nowNs: UInt64, endNs: UInt64) -> UInt64? {
        let t = intendedNs(issued)
        guard t <= nowNs, t < endNs else { return nil }
        issued += 1
        return t
    }
}
