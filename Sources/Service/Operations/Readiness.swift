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
    /// The ring's part of `/ready` (upstream's lifecycler readiness, §5.4): 0 when the writer is
    /// in no ring; `ringUnpublished` until a member first took the entry; then the monotonic
    /// time from which `/ready` may answer 200 (`-segment-writer.min-ready-duration` later).
    private let ringReadyAtNs = Atomic<UInt64>(0)
    private static let ringUnpublished = UInt64.max

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

    /// `/ready` answers 200: serving, and the ring's wait (if any) is over.
    public var isServing: Bool { state == .serving && ringWait == nil }

    /// The writer is in a ring: `/ready` waits for its entry's first publication.
    public func requireRingPublication() {
        ringReadyAtNs.store(Self.ringUnpublished, ordering: .releasing)
    }

    /// A member took the entry: `/ready` may answer 200 `minReadyNs` from now (only the first
    /// publication counts, so the wait latches, as upstream's does).
    public func ringPublished(minReadyNs: Int64) {
        let readyAt = EventLoop.monotonicNowNs &+ UInt64(max(0, minReadyNs))
        _ = ringReadyAtNs.compareExchange(expected: Self.ringUnpublished, desired: readyAt, ordering: .acquiringAndReleasing)
    }

    /// Why `/ready` still waits on the ring, or nil: upstream's lifecycler is ready once the
    /// instance owns tokens in the ring, and then `min_ready_duration` later. (Its check that
    /// every other instance is ACTIVE and healthy is not made: this writer does not read the ring.)
    public var ringWait: String? {
        let readyAt = ringReadyAtNs.load(ordering: .acquiring)
        if readyAt == 0 { return nil }
        if readyAt == Self.ringUnpublished { return "this instance owns no tokens: its ring entry is not published yet" }
        let now = EventLoop.monotonicNowNs
        guard now < readyAt else { return nil }
        let seconds = (readyAt - now + 999_999_999) / 1_000_000_000
        return "waiting \(seconds)s more: -segment-writer.min-ready-duration after the ring entry was published"
    }

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
