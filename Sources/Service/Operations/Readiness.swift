import Membership
import Runtime
import Synchronization

/// The process lifecycle as `/ready`, gRPC health and Push admission see it
/// (ingest-and-ops.md §5.4–5.5): Pushes are admitted while `serving`, during the shutdown
/// delay and while the ring entry is leaving; `/ready` answers 200 only while `serving`.
public final class Readiness: Sendable {
    public enum State: UInt8, Sendable {
        /// `delayingShutdown`: a termination signal arrived and `-shutdown-delay` runs; Pushes and
        /// gRPC health go on as before (upstream's sleep), only `/ready` already answers 503.
        /// `leavingRing`: the ring entry is LEAVING and `-segment-writer.min-ready-duration` runs:
        /// gRPC health is NOT_SERVING, Pushes are still taken (§5.5 steps 2–4).
        case starting, serving, delayingShutdown, leavingRing, draining, stopped
    }

    private let raw = Atomic<UInt8>(State.starting.rawValue)
    /// The ring's part of `/ready` (upstream's lifecycler readiness, §5.4); cold: probes and
    /// heartbeats only.
    private let ring = Mutex(RingReadiness())

    public init() {}

    public var state: State { State(rawValue: raw.load(ordering: .acquiring))! }

    /// Moves forward only (starting → serving → delayingShutdown → leavingRing → draining → stopped).
    public func advance(to next: State) {
        var current = raw.load(ordering: .relaxed)
        while current < next.rawValue {
            let (exchanged, original) = raw.compareExchange(
                expected: current, desired: next.rawValue, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    /// `/ready` answers 200: serving, and the ring's check (if any) passed.
    public var isServing: Bool { state == .serving && ringWait == nil }

    /// The writer is in a ring: `/ready` waits for the ring check of `settings`.
    public func requireRing(_ settings: RingReadiness.Settings) {
        ring.withLock { $0.settings = settings }
    }

    /// The ring as the member that took the last heartbeat showed it; nil when its reply could
    /// not be read (then only the publication itself counts, as before this writer read the ring).
    /// Returns why the writer is not ready after it, or nil.
    @discardableResult
    public func ringSeen(_ instances: [RingInstance]?, nowNs: Int64 = EventLoop.realtimeNowNs,
                         monotonicNs: UInt64 = EventLoop.monotonicNowNs) -> String? {
        ring.withLock { $0.seen(instances, nowNs: nowNs, monotonicNs: monotonicNs) }
    }

    /// Why `/ready` still waits on the ring, or nil (also nil once it passed: the check latches).
    public func ringWait(nowNs: Int64 = EventLoop.realtimeNowNs, monotonicNs: UInt64 = EventLoop.monotonicNowNs) -> String? {
        ring.withLock { $0.check(nowNs: nowNs, monotonicNs: monotonicNs) }
    }

    public var ringWait: String? { ringWait() }

    /// Pushes are taken.
    public var admitsPushes: Bool {
        let current = state
        return current == .serving || current == .delayingShutdown || current == .leavingRing
    }

    /// gRPC health reports SERVING (upstream turns it NOT_SERVING only after its shutdown delay,
    /// §5.5 step 2).
    public var isHealthServing: Bool {
        let current = state
        return current == .serving || current == .delayingShutdown
    }
}
