/// Upstream's readiness check on the ring (dskit's lifecycler, `readiness_check_ring_health`):
/// with `checkAllInstances` every instance must be ACTIVE with a heartbeat no older than the
/// timeout (0: any age) and the ring must hold tokens; without it only this instance is checked. Either way
/// this instance must be in the ring (its lifecycler's own view always holds it; ours is a
/// member's reply with the heartbeat just sent merged in, `RingInstance.merging`). LEFT entries are tombstones that
/// dskit's KV removes before a client sees the ring: they count for nothing.
public enum RingHealth {
    /// Why the writer is not ready by the ring in `instances`, in dskit's words; nil when it is.
    public static func problem(_ instances: [RingInstance], selfID: String, checkAllInstances: Bool,
                               heartbeatTimeoutNs: Int64, nowNs: Int64) -> String? {
        let instances = instances.filter { $0.state != RingInstance.left }
        guard let own = instances.first(where: { $0.id == selfID }) else {
            return "instance \(selfID) not found in the ring"
        }
        guard checkAllInstances else { return problem(of: own, heartbeatTimeoutNs, nowNs) }
        var tokens = 0
        for instance in instances.sorted(by: { $0.id < $1.id }) {
            if let problem = problem(of: instance, heartbeatTimeoutNs, nowNs) { return problem }
            tokens += instance.tokenCount
        }
        return tokens == 0 ? "no tokens in ring" : nil
    }

    private static func problem(of instance: RingInstance, _ heartbeatTimeoutNs: Int64, _ nowNs: Int64) -> String? {
        if isStale(instance.timestamp, heartbeatTimeoutNs, nowNs) { return "instance \(instance.addr) past heartbeat timeout" }
        if instance.state != 0 { return "instance \(instance.addr) in state \(instance.stateName)" }
        return nil
    }

    /// dskit's `now − timestamp > timeout`, total on any timestamp (one far in the future is
    /// fresh, one far in the past stale); a zero timeout turns the check off, as dskit's
    /// `IsHeartbeatHealthy` does.
    private static func isStale(_ timestamp: Int64, _ heartbeatTimeoutNs: Int64, _ nowNs: Int64) -> Bool {
        guard heartbeatTimeoutNs != 0 else { return false }
        let timestampNs = timestamp.multipliedReportingOverflow(by: 1_000_000_000)
        if timestampNs.overflow { return timestamp < 0 }
        let since = nowNs.subtractingReportingOverflow(timestampNs.partialValue)
        return since.overflow || since.partialValue > heartbeatTimeoutNs
    }
}
