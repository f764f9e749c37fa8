import Synchronization

/// A cap on the open connections of one listening port, counted across the group's loops
/// (dskit's `-server.grpc-conn-limit`, Go's `netutil.LimitListener`). At the cap a loop stops
/// accepting on that port: new connections wait in the listen backlog, as behind a Go listener
/// whose Accept blocks, and are taken once a connection of the port has closed.
public final class ConnectionLimit: Sendable {
    public let maximum: Int
    private let open = Atomic<Int>(0)

    public init(maximum: Int) {
        precondition(maximum > 0, "a connection limit must be positive")
        self.maximum = maximum
    }

    /// Connections of the port open now, on every loop.
    public var openCount: Int { open.load(ordering: .relaxed) }

    /// Takes a place for one more connection; false at the cap.
    func tryAcquire() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < maximum {
            let (exchanged, actual) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = actual
        }
        return false
    }

    func release() {
        let before = open.subtract(1, ordering: .relaxed).oldValue
        precondition(before > 0, "connection limit released more often than acquired")
    }
}
