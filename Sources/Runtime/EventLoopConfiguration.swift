/// Every bound of a loop, fixed at start-up (house style: a limit on everything).
public struct EventLoopConfiguration: Sendable {
    /// Capacity of the loop's job inbox (`EventLoop.post`); rounded up to a power of two.
    public var inboxCapacity = 4096
    /// Open connections per loop; further accepts are closed at once.
    public var connectionsMax = 4096
    /// The loop's one receive buffer, lent to handlers for each read.
    public var receiveBufferBytes = 64 * 1024
    /// Above this many queued outbound bytes a connection stops reading (backpressure)…
    public var outboundHighWatermarkBytes = 1 << 20
    /// …and resumes once the queue drains below this.
    public var outboundLowWatermarkBytes = 256 * 1024
    /// A write that would queue more than this closes the connection with ENOBUFS.
    public var outboundBytesMax = 64 << 20
    /// Live timers per loop.
    public var timersMax = 1024
    /// io_uring submission queue size; the completion queue is twice as large.
    /// 0: no ring (`EventLoop.ring` is nil), for hosts whose seccomp profile
    /// forbids io_uring (recent container runtimes' defaults may).
    public var ringEntries: UInt32 = 256
    /// Readiness events handled per epoll_wait (at most 256).
    public var eventsPerWait: Int32 = 256
    /// Pin loop i to the i-th CPU this process may use (pthread_setaffinity_np).
    public var pinThreads = true
    public var listenBacklog: Int32 = 1024
    /// How often the loop looks for connections past their `deadlineNs` (a connection's
    /// timeout fires up to this late); the sweep runs only once some deadline was set.
    public var deadlineResolutionMs: UInt64 = 100
    /// Called on the loop's thread when an accept fails for want of descriptors or memory and
    /// the listener pauses (the error, the pause), so the server can say so as Go's does
    /// ("Accept error: …; retrying in …").
    public var acceptPaused: (@Sendable (Errno, _ retryInMs: UInt64) -> Void)?
    /// Called on the loop's thread when a connection accepted on `port` is closed at once
    /// because every one of the loop's `connectionsMax` slots is taken.
    public var connectionRefused: (@Sendable (_ port: UInt16) -> Void)?

    public init() {}

    func validate() {
        precondition(inboxCapacity > 0 && connectionsMax > 0 && connectionsMax < 1 << 24, "loop bounds out of range")
        precondition(receiveBufferBytes >= 1024, "receive buffer too small")
        precondition(outboundLowWatermarkBytes <= outboundHighWatermarkBytes
                     && outboundHighWatermarkBytes <= outboundBytesMax, "outbound watermarks out of order")
        precondition(eventsPerWait > 0 && eventsPerWait <= 256, "eventsPerWait out of range")
        precondition(deadlineResolutionMs > 0, "deadlineResolutionMs must be positive")
    }
}
