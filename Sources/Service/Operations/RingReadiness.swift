import Membership

/// dskit's lifecycler readiness for this writer's ring entry (ingest-and-ops.md §5.4): not ready
/// until the ring check (`RingHealth`) passes, then `min_ready_duration` more, the counter
/// starting over whenever the check fails; once ready, ready for good. The ring is the one the
/// member that took the last heartbeat replied with; the check runs on each reply and each probe.
public struct RingReadiness: Sendable {
    public struct Settings: Sendable {
        public var instanceID: String
        /// `-segment-writer.readiness-check-ring-health`: every instance, or only this one.
        public var checkAllInstances: Bool
        /// `-segment-writer.ring.heartbeat-timeout`.
        public var heartbeatTimeoutNs: Int64
        /// `-segment-writer.min-ready-duration`.
        public var minReadyNs: Int64

        public init(instanceID: String, checkAllInstances: Bool, heartbeatTimeoutNs: Int64, minReadyNs: Int64) {
            self.instanceID = instanceID
            self.checkAllInstances = checkAllInstances
            self.heartbeatTimeoutNs = heartbeatTimeoutNs
            self.minReadyNs = minReadyNs
        }
    }

    private enum View {
        case unpublished
        /// Published, but the member's reply was not readable as a ring.
        case unread
        case ring([RingInstance])
    }

    /// Nil: the writer is in no ring.
    var settings: Settings?
    private var view = View.unpublished
    private var readySinceNs: UInt64?
    private var ready = false

    mutating func seen(_ instances: [RingInstance]?, nowNs: Int64, monotonicNs: UInt64) -> String? {
        view = instances.map(View.ring) ?? .unread
        return check(nowNs: nowNs, monotonicNs: monotonicNs)
    }

    /// Why not ready, or nil; `nowNs` is wall-clock time (heartbeats are unix seconds).
    mutating func check(nowNs: Int64, monotonicNs: UInt64) -> String? {
        guard let settings, !ready else { return nil }
        if let problem = problem(settings, nowNs) {
            readySinceNs = nil
            return problem
        }
        let since = readySinceNs ?? monotonicNs
        readySinceNs = since
        if monotonicNs &- since < UInt64(max(0, settings.minReadyNs)) {
            return "waiting for \(GoDuration.format(nanoseconds: settings.minReadyNs)) after being ready"
        }
        ready = true
        return nil
    }

    private func problem(_ settings: Settings, _ nowNs: Int64) -> String? {
        switch view {
        case .unpublished: "this instance owns no tokens: its ring entry is not published yet"
        case .unread: nil
        case .ring(let instances):
            RingHealth.problem(instances, selfID: settings.instanceID, checkAllInstances: settings.checkAllInstances,
                               heartbeatTimeoutNs: settings.heartbeatTimeoutNs, nowNs: nowNs)
        }
    }
}
