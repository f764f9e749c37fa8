import CShims

/// N event loops, one per CPU by default. Shard `s` is owned by loop `s mod N`.
///
/// Sendable: the loop array is immutable; `start`, `stop` and `join` are meant
/// for the one controlling thread.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]

    /// CPUs this process may run on (sched_getaffinity), at least 1.
    public static var allowedCPUCount: Int { max(1, Int(cshim_allowed_cpu_count())) }

    public init(loopCount: Int = EventLoopGroup.allowedCPUCount, configuration: EventLoopConfiguration = .init()) throws(Errno) {
        precondition(loopCount > 0, "an event loop group needs at least one loop")
        var loops: [EventLoop] = []
        for index in 0..<loopCount {
            loops.append(try EventLoop(index: index, configuration: configuration))
        }
        self.loops = loops
    }

    public func loop(for shard: UInt32) -> EventLoop {
        loops[Int(shard % UInt32(loops.count))]
    }

    /// Opens one listener per loop on `host:port` (port 0 picks a free port,
    /// shared by all) and returns the bound port. Call before `start`. `host` is an IP
    /// literal or "" for every interface, IPv4 and IPv6 (`ListeningSocket.listen`).
    ///
    /// Why SO_REUSEPORT rather than one acceptor: the kernel spreads incoming
    /// connections over the loops' own accept queues by 4-tuple hash, so each
    /// connection is accepted and served by the same core with no cross-thread
    /// hand-off of file descriptors, no shared accept queue to contend on, and no
    /// single accepting thread to become the bottleneck or the thundering herd.
    /// The price: connections waiting in a listener's queue when it closes are
    /// reset, which only matters on stop, when we refuse new connections anyway.
    @discardableResult
    public func listen(
        host: String, port: UInt16, makeHandler: @escaping @Sendable (EventLoop) -> any ConnectionHandler
    ) throws(Errno) -> UInt16 {
        try bind(host: host, port: port, makeHandler: makeHandler).port
    }

    /// `listen`, returning the address the listeners got: the port (when `port` was 0) and the
    /// host (`::` or, on a kernel without IPv6, `0.0.0.0` when `host` is empty).
    /// `limit` caps the port's open connections across the loops (nil: only each loop's slots).
    public func bind(
        host: String, port: UInt16, limit: ConnectionLimit? = nil,
        makeHandler: @escaping @Sendable (EventLoop) -> any ConnectionHandler
    ) throws(Errno) -> (host: String, port: UInt16) {
        var boundPort = port, boundHost = host
        for loop in loops {
            let socket = try ListeningSocket.listen(
                host: host, port: boundPort, backlog: loop.configuration.listenBacklog, reusePort: true)
            do {
                boundPort = try socket.localPort
                boundHost = try socket.localHost
                try loop.addListener(socket, limit: limit, makeHandler: makeHandler)
            } catch {
                socket.close()
                throw error
            }
        }
        return (boundHost, boundPort)
    }

    public func start() {
        for loop in loops { loop.start() }
    }

    /// Stop accepting, let every loop drain its posted work and ring operations, close connections.
    public func stop() {
        for loop in loops { loop.requestStop() }
    }

    public func join() {
        for loop in loops { loop.join() }
    }

    /// `stop` then `join`.
    public func shutdown() {
        stop()
        join()
    }
}
