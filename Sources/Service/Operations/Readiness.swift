import Synchronization

/// The process lifecycle as `/ready`, gRPC health and Push admission see it
/// (ingest-and-ops.md §5.4–5.5): Pushes are admitted only while `serving`.
public final class Readiness: Sendable {
    public enum State: UInt8, Sendable {
        case starting, serving, draining, stopped
    }

    private let raw = Atomic<UInt8>(State.starting.rawValue)

    public init() {}

    public var state: State { State(rawValue: raw.load(ordering: .acquiring))! }

    /// Moves forward only (starting → serving → draining → stopped).
    public func advance(to next: State) {
        var current = raw.load(ordering: .relaxed)
        while current < next.rawValue {
            let (exchanged, original) = raw.compareExchange(
                expected: current, desired: next.rawValue, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    public var isServing: Bool { state == .serving }
}
