import CShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One pinned thread with its own epoll instance, eventfd wake-up, timers,
/// bounded inboxes and io_uring ring. See README.md for the threading model.
///
/// Thread confinement (why `@unchecked Sendable`): `post`, `Inbox.post`,
/// `requestStop`, the counters and `isInLoop` are safe from any thread (atomics
/// and the lock-free inbox); `start`/`join` belong to the one controlling thread;
/// everything else (timers, connections, listeners, `ring`) is touched only on
/// the loop's own thread, or before `start`.
public final class EventLoop: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    private enum Lifecycle {
        static let created = 0, running = 1, stopRequested = 2, exited = 3
    }

    /// epoll `data` tokens: kind in the top byte; connections add generation and slot.
    enum Token {
        static let wake: UInt64 = 0
        static let ring: UInt64 = 1 << 56
        static let listener: UInt64 = 2 << 56
        static let connection: UInt64 = 3 << 56
        static let kindMask: UInt64 = 0xFF << 56
    }

    public let index: Int
    public let configuration: EventLoopConfiguration
    /// This loop's io_uring, nil when `ringEntries` is 0 (e.g. where a seccomp
    /// profile forbids io_uring; sockets need no ring). Loop thread only.
    public let ring: Ring?
    let epollFD: Int32
    private let wakeFD: Int32

    // Cross-thread state.
    private let lifecycle = Atomic<Int>(Lifecycle.created)
    private let wakePending = Atomic<Bool>(false)
    private let postersInFlight = Atomic<Int>(0)
    private let threadIdentity = Atomic<UInt>(0)
    private let cpu = Atomic<Int>(-1)
    let acceptedCount = Atomic<Int>(0)
    let rejectedCount = Atomic<Int>(0)

    // Controlling-thread state.
    private var thread: pthread_t?

    // Loop-thread state.
    private var jobs: Inbox<Job>!
    private var inboxes: [any InboxDraining] = []
    private var inboxBacklog = false
    private var timers: TimerTable
    var listeners: [Listener] = []
    var connections: [Connection?]
    var generations: [UInt32]
    var freeSlots: [UInt32]
    var pendingCloses: [Connection] = []
    /// The repeating sweep over connection deadlines, started by the first deadline set.
    var deadlineSweep: TimerID?
    private var draining = false
    let receiveBuffer: UnsafeMutableRawBufferPointer
    private let events: UnsafeMutablePointer<cshim_epoll_event>

    public init(index: Int, configuration: EventLoopConfiguration = .init()) throws(Errno) {
        configuration.validate()
        self.index = index
        self.configuration = configuration
        ring = configuration.ringEntries > 0 ? try Ring(submissionEntries: configuration.ringEntries) : nil
        epollFD = try Errno.check(cshim_epoll_create())
        do {
            wakeFD = try Errno.check(cshim_eventfd_create())
        } catch {
            _ = Glibc.close(epollFD)
            throw error
        }
        timers = TimerTable(timersMax: configuration.timersMax)
        connections = Array(repeating: nil, count: configuration.connectionsMax)
        generations = Array(repeating: 0, count: configuration.connectionsMax)
        freeSlots = (0..<UInt32(configuration.connectionsMax)).reversed()
        pendingCloses.reserveCapacity(configuration.connectionsMax)
        receiveBuffer = .allocate(byteCount: configuration.receiveBufferBytes, alignment: 64)
        events = .allocate(capacity: Int(configuration.eventsPerWait))
        jobs = Inbox(loop: self, capacity: configuration.inboxCapacity) { job in job() }
        try addToEpoll(fd: wakeFD, events: UInt32(CSHIM_EPOLLIN), token: Token.wake)
        if let ring { try addToEpoll(fd: ring.eventFD, events: UInt32(CSHIM_EPOLLIN), token: Token.ring) }
    }

    deinit {
        for listener in listeners { listener.socket.close() }
        _ = Glibc.close(wakeFD)
        _ = Glibc.close(epollFD)
        receiveBuffer.deallocate()
        events.deallocate()
    }

    // MARK: Any thread.

    /// Runs `job` on this loop. False when the inbox is full or the loop has
    /// exited; never blocks, never grows the inbox.
    public func post(_ job: @escaping Job) -> Bool {
        jobs.post(job)
    }

    /// Asks the loop to stop: it closes its listeners, runs what was posted,
    /// waits for its ring operations, closes its connections and exits.
    public func requestStop() {
        if lifecycle.compareExchange(expected: Lifecycle.created, desired: Lifecycle.exited, ordering: .sequentiallyConsistent).exchanged {
            return
        }
        _ = lifecycle.compareExchange(expected: Lifecycle.running, desired: Lifecycle.stopRequested, ordering: .sequentiallyConsistent)
        wake()
    }

    /// The loop has exited: nothing posted to it runs any more.
    public var hasExited: Bool { lifecycle.load(ordering: .sequentiallyConsistent) == Lifecycle.exited }

    public var isInLoop: Bool {
        let identity = threadIdentity.load(ordering: .acquiring)
        return identity != 0 && pthread_equal(pthread_self(), pthread_t(identity)) != 0
    }

    /// The CPU the loop thread is pinned to, nil when unpinned or not started.
    public var pinnedCPU: Int? {
        let value = cpu.load(ordering: .relaxed)
        return value >= 0 ? value : nil
    }

    /// CLOCK_MONOTONIC in nanoseconds, the clock timers run on.
    public static var monotonicNowNs: UInt64 { cshim_monotonic_ns() }

    /// CLOCK_REALTIME in nanoseconds since the Unix epoch: timestamps others read (ULIDs, ring
    /// heartbeats, profile times, request signatures, logs).
    public static var realtimeNowNs: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public var acceptedConnections: Int { acceptedCount.load(ordering: .relaxed) }
    /// Accepted past `connectionsMax` and closed at once.
    public var rejectedConnections: Int { rejectedCount.load(ordering: .relaxed) }

    /// Enqueues through `enqueue` unless the loop has exited, then wakes it.
    /// The in-flight count closes the race with exit: the loop, having marked
    /// itself exited, waits for in-flight posters and then drains once more,
    /// so every accepted element runs exactly once.
    func deliver(_ enqueue: () -> Bool) -> Bool {
        postersInFlight.add(1, ordering: .sequentiallyConsistent)
        defer { postersInFlight.subtract(1, ordering: .sequentiallyConsistent) }
        guard lifecycle.load(ordering: .sequentiallyConsistent) != Lifecycle.exited, enqueue() else { return false }
        wake()
        return true
    }

    private func wake() {
        // One eventfd write per wake-up, however many posts: the loop clears the flag before draining.
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            _ = cshim_eventfd_signal(wakeFD)
        }
    }

    // MARK: Controlling thread.

    public func start() {
        let (started, _) = lifecycle.compareExchange(
            expected: Lifecycle.created, desired: Lifecycle.running, ordering: .sequentiallyConsistent)
        precondition(started, "event loop \(index) started twice or after stop")
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(Errno(rawValue: rc))")
        self.thread = thread
    }

    /// Waits for the loop thread to exit (after `requestStop`).
    public func join() {
        guard let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }

    // MARK: Loop thread (or before start).

    func preconditionInLoop() {
        precondition(isInLoop || lifecycle.load(ordering: .relaxed) == Lifecycle.created,
                     "used off event loop \(index)'s thread")
    }

    func register(_ inbox: any InboxDraining) {
        preconditionInLoop()
        inboxes.append(inbox)
    }

    /// Calls `fire` on this loop after `afterMs`, then every `repeatingEveryMs` if non-zero.
    /// Timers with equal deadlines fire in the order they were scheduled.
    @discardableResult
    public func scheduleTimer(
        afterMs: UInt64, repeatingEveryMs: UInt64 = 0, _ fire: @escaping (EventLoop) -> Void
    ) -> TimerID {
        preconditionInLoop()
        return timers.schedule(nowNs: cshim_monotonic_ns(), delayNs: afterMs * 1_000_000,
                               intervalNs: repeatingEveryMs * 1_000_000, fire: fire)
    }

    /// True when the timer was live; it will not fire again.
    @discardableResult
    public func cancelTimer(_ id: TimerID) -> Bool {
        preconditionInLoop()
        return timers.cancel(id)
    }

    // MARK: The loop.

    private func run() {
        threadIdentity.store(UInt(pthread_self()), ordering: .releasing)
        pinThread()
        while !iterate() {}
        finish()
    }

    /// One epoll_wait and everything it makes ready; true when the loop should exit.
    private func iterate() -> Bool {
        let count = cshim_epoll_wait(epollFD, events, configuration.eventsPerWait, timeoutMs())
        precondition(count >= 0 || count == -EINTR, "epoll_wait failed: \(Errno(rawValue: -count))")
        for i in 0..<max(0, Int(count)) {
            dispatch(events[i])
            closePending()
            pumpRing()
        }
        let drained = drainInboxes()
        runExpiredTimers()
        closePending()
        submitRing()
        if !draining && lifecycle.load(ordering: .sequentiallyConsistent) == Lifecycle.stopRequested {
            beginDraining()
        }
        return draining && drained == 0 && !inboxBacklog && ringInFlight == 0
    }

    private func timeoutMs() -> Int32 {
        if inboxBacklog || !pendingCloses.isEmpty { return 0 }
        let timerMs = timers.timeoutMs(nowNs: cshim_monotonic_ns())
        // While draining, poll so the exit condition is re-checked promptly.
        let drainMs: Int32? = draining ? 1 : nil
        switch (timerMs, drainMs) {
        case let (t?, d?): return min(t, d)
        case let (t?, nil): return t
        case let (nil, d?): return d
        case (nil, nil): return -1
        }
    }

    private func dispatch(_ event: cshim_epoll_event) {
        let token = event.data
        switch token & Token.kindMask {
        case Token.wake:
            _ = cshim_eventfd_drain(wakeFD)
            _ = wakePending.exchange(false, ordering: .acquiringAndReleasing)
        case Token.ring:
            ring?.clearEventFD()
            ring?.drainCompletions()
        case Token.listener:
            acceptPending(listener: Int(token & 0xFF_FFFF))
        default:
            let slot = Int(token & 0xFF_FFFF)
            let generation = UInt32(truncatingIfNeeded: token >> 24)
            guard generations[slot] == generation, let connection = connections[slot] else { return }
            connection.handle(events: event.events)
        }
    }

    /// Returns how many elements ran; sets `inboxBacklog` when an inbox had more
    /// than its capacity waiting (the next epoll_wait then does not block).
    @discardableResult
    private func drainInboxes() -> Int {
        var total = 0
        inboxBacklog = false
        for inbox in inboxes {
            // At most one inbox-full per iteration, so timers and sockets keep their turn.
            let limit = inbox.capacity
            let ran = inbox.drain(limit: limit)
            total += ran
            if ran == limit { inboxBacklog = true }
        }
        return total
    }

    private func runExpiredTimers() {
        let nowNs = cshim_monotonic_ns()
        // Bounded so a timer that re-arms itself at zero delay cannot hold the loop.
        for _ in 0..<timers.timersMax {
            guard let fire = timers.popExpired(nowNs: nowNs) else { return }
            fire(self)
            pumpRing()
        }
    }

    private var ringInFlight: Int { ring?.inFlight ?? 0 }

    /// Between events and timers: submits what they prepared and runs the completions that
    /// arrived meanwhile, so that a chain of ring operations (a durable put: open, write, fsync,
    /// rename, …) advances one step per event rather than one per iteration. An iteration under
    /// load holds many Pushes' decoding and a segment flush; waiting for its end cost each step
    /// of an upload that long (uploads took 30× longer at 660 Pushes/s than idle). A CQ with
    /// nothing new costs two loads; a submit is a syscall only when something was prepared.
    /// Operations the kernel finishes inside the submit (an open or a close) complete at once,
    /// and their handlers prepare the next step: a few rounds take such a chain as far as its
    /// next operation that waits.
    @inline(__always)
    private func pumpRing() {
        guard let ring, ring.inFlight > 0 || ring.hasUnsubmitted else { return }
        for _ in 0 ..< Self.pumpRoundsMax {
            submitRing()
            guard ring.hasUnsubmitted else { return }
        }
    }

    private static let pumpRoundsMax = 4

    private func submitRing() {
        guard let ring else { return }
        do {
            try ring.submit()
        } catch {
            // EBUSY/EAGAIN: the kernel is short of resources; the entries stay
            // queued and the next iteration submits them again.
            precondition(error == .busy || error == .wouldBlock, "io_uring_submit failed: \(error)")
        }
        ring.drainCompletions()
    }

    private func beginDraining() {
        draining = true
        for listener in listeners {
            _ = cshim_epoll_ctl(epollFD, Int32(CSHIM_EPOLL_DEL), listener.socket.socket.fileDescriptor, 0, 0)
            listener.socket.close()
        }
        listeners.removeAll()
    }

    private func finish() {
        lifecycle.store(Lifecycle.exited, ordering: .sequentiallyConsistent)
        while postersInFlight.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        while drainInboxes() > 0 {}
        submitRing()
        while ringInFlight > 0 {
            usleep(100)
            submitRing()
        }
        ring?.loopExiting()
        // Queued output is dropped; the handlers hear of an orderly close.
        for case let connection? in connections {
            connection.closeForStop()
        }
        closePending()
        timers.cancelAll()
        threadIdentity.store(0, ordering: .releasing)
    }

    private func pinThread() {
        guard configuration.pinThreads else { return }
        let allowed = cshim_allowed_cpu_count()
        guard allowed > 0 else { return }
        let target = cshim_allowed_cpu(Int32(index % Int(allowed)))
        if target >= 0 && cshim_pin_current_thread(target) == 0 {
            cpu.store(Int(target), ordering: .relaxed)
        }
    }

    func addToEpoll(fd: Int32, events: UInt32, token: UInt64) throws(Errno) {
        _ = try Errno.check(cshim_epoll_ctl(epollFD, Int32(CSHIM_EPOLL_ADD), fd, events, token))
    }
}
