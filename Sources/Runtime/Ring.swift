import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Receives the completions of the ring operations a client submitted. One
/// handler serves many operations; the `tag` it chose at submission tells them
/// apart, so the hot path needs no closure per operation.
public protocol RingCompletionHandler: AnyObject {
    /// `result` is the kernel's: >= 0 success (bytes written, new fd, …), -errno failure.
    /// Operations after a failed one in a linked chain complete with -ECANCELED.
    func ringCompleted(tag: UInt64, result: Int32)
    /// The loop is exiting and nothing is in flight on the ring any more: release what the
    /// handler still holds open between operations (e.g. idle sockets). Default: nothing.
    func ringLoopExiting()
}

extension RingCompletionHandler {
    public func ringLoopExiting() {}
}

/// A registered completion handler on one ring.
public struct RingClient: Hashable, Sendable {
    let index: UInt16
}

/// One io_uring per loop (liburing). Operations are prepared during a loop
/// iteration and submitted in one batch before the loop blocks; completions
/// wake the loop through an eventfd registered on the ring
/// (io_uring_register_eventfd) and are dispatched to `RingCompletionHandler`s
/// by `user_data` = client index (16 bits) << 48 | tag (48 bits).
///
/// Buffers and path strings passed to an operation must stay valid until its
/// completion arrives. At most `completionsMax` operations are in flight (so the
/// CQ cannot overflow); beyond that a prepare throws `Errno.busy`.
///
/// Not Sendable: confined to the thread of the loop that owns it.
public final class Ring {
    public static let tagMax: UInt64 = (1 << 48) - 1
    static let clientsMax = 256

    private let ring: UnsafeMutablePointer<io_uring>
    let eventFD: Int32
    public let submissionEntries: Int
    public let completionsMax: Int
    public private(set) var inFlight = 0
    private var unsubmitted = 0
    /// Whether operations were prepared since the last submit.
    var hasUnsubmitted: Bool { unsubmitted > 0 }
    private var clients: [(any RingCompletionHandler)?] = []
    private let completions: UnsafeMutablePointer<cshim_completion>
    private static let drainBatch = 256

    /// - Parameter submissionEntries: SQ size (power of two); the CQ is twice as large.
    public init(submissionEntries: UInt32) throws(Errno) {
        precondition(submissionEntries > 0 && submissionEntries <= 32768, "ring entries out of range")
        var error: Int32 = 0
        guard let ring = cshim_ring_create(submissionEntries, 2 * submissionEntries, &error) else {
            throw Errno(rawValue: -error)
        }
        self.ring = ring
        self.submissionEntries = Int(submissionEntries)
        completionsMax = Int(2 * submissionEntries)
        do {
            eventFD = try Errno.check(cshim_eventfd_create())
        } catch {
            cshim_ring_destroy(ring)
            throw error
        }
        let registered = cshim_ring_register_eventfd(ring, eventFD)
        if registered < 0 {
            cshim_ring_destroy(ring)
            _ = Glibc.close(eventFD)
            throw Errno(rawValue: -registered)
        }
        completions = .allocate(capacity: Ring.drainBatch)
    }

    deinit {
        cshim_ring_destroy(ring)
        _ = Glibc.close(eventFD)
        completions.deallocate()
    }

    public func register(_ handler: any RingCompletionHandler) -> RingClient {
        if let free = clients.firstIndex(where: { $0 == nil }) {
            clients[free] = handler
            return RingClient(index: UInt16(free))
        }
        precondition(clients.count < Ring.clientsMax, "more than \(Ring.clientsMax) ring clients")
        clients.append(handler)
        return RingClient(index: UInt16(clients.count - 1))
    }

    /// Completions still in flight for this client are dropped when they arrive.
    public func unregister(_ client: RingClient) {
        clients[Int(client.index)] = nil
    }

    /// Makes sure the next `entries` prepares fit in the submission queue without
    /// an intermediate submit (submitting now if needed) and in the in-flight cap
    /// (else `Errno.busy`, before anything is prepared). Call before preparing a
    /// linked chain: a chain cut by a submit loses its links, and one cut by a
    /// refused prepare would link its last entry to whatever is prepared next.
    public func reserve(_ entries: Int) throws(Errno) {
        precondition(entries <= submissionEntries, "chain longer than the submission queue")
        guard inFlight + entries <= completionsMax else { throw .busy }
        if Int(cshim_ring_sq_space_left(ring)) < entries { try submit() }
    }

    // MARK: Operations. `linked` chains the next prepared operation after this
    // one (IOSQE_IO_LINK): it starts only if this one succeeds.

    public func write(
        fd: Int32, bytes: UnsafeRawBufferPointer, fileOffset: UInt64,
        client: RingClient, tag: UInt64, linked: Bool = false
    ) throws(Errno) {
        precondition(bytes.count <= Int(UInt32.max), "ring write larger than 4 GiB")
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_write(ring, fd, bytes.baseAddress, UInt32(bytes.count), fileOffset, userData, flags)
        }
    }

    public func fsync(fd: Int32, dataOnly: Bool = false, client: RingClient, tag: UInt64, linked: Bool = false) throws(Errno) {
        let fsyncFlags = dataOnly ? UInt32(CSHIM_IORING_FSYNC_DATASYNC) : 0
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_fsync(ring, fd, fsyncFlags, userData, flags)
        }
    }

    /// `path` must stay valid until the completion (result = the new fd).
    public func openat(
        directory: Int32, path: UnsafePointer<CChar>, flags openFlags: Int32, mode: UInt32,
        client: RingClient, tag: UInt64, linked: Bool = false
    ) throws(Errno) {
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_openat(ring, directory, path, openFlags, mode, userData, flags)
        }
    }

    public func renameat(
        sourceDirectory: Int32, source: UnsafePointer<CChar>, targetDirectory: Int32, target: UnsafePointer<CChar>,
        client: RingClient, tag: UInt64, linked: Bool = false
    ) throws(Errno) {
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_renameat(ring, sourceDirectory, source, targetDirectory, target, 0, userData, flags)
        }
    }

    public func close(fd: Int32, client: RingClient, tag: UInt64, linked: Bool = false) throws(Errno) {
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_close(ring, fd, userData, flags)
        }
    }

    /// `address` must stay valid until the completion (result 0 = connected).
    public func connect(
        fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t,
        client: RingClient, tag: UInt64, linked: Bool = false
    ) throws(Errno) {
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_connect(ring, fd, address, UInt32(length), userData, flags)
        }
    }

    /// May send fewer bytes than asked (result = bytes sent); the caller sends the rest.
    public func send(
        fd: Int32, bytes: UnsafeRawBufferPointer, client: RingClient, tag: UInt64, linked: Bool = false
    ) throws(Errno) {
        let count = UInt32(min(bytes.count, Int(UInt32.max)))
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_send(ring, fd, bytes.baseAddress, count, userData, flags)
        }
    }

    /// Result = bytes received, 0 at the peer's end of stream.
    public func recv(
        fd: Int32, into buffer: UnsafeMutableRawBufferPointer, client: RingClient, tag: UInt64, linked: Bool = false
    ) throws(Errno) {
        let count = UInt32(min(buffer.count, Int(UInt32.max)))
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_recv(ring, fd, buffer.baseAddress, count, userData, flags)
        }
    }

    /// Asks the kernel to cancel this client's operation `target` (IORING_OP_ASYNC_CANCEL). The
    /// target still completes (usually -ECANCELED); this operation's result is 0, -ENOENT (already
    /// done) or -EALREADY (running; it will complete soon).
    public func cancel(target: UInt64, client: RingClient, tag: UInt64) throws(Errno) {
        precondition(target <= Ring.tagMax, "ring tag wider than 48 bits")
        let targetUserData = UInt64(client.index) << 48 | target
        try prepare(client, tag, false) { ring, userData, flags in
            cshim_ring_prep_cancel(ring, targetUserData, userData, flags)
        }
    }

    public func nop(client: RingClient, tag: UInt64, linked: Bool = false) throws(Errno) {
        try prepare(client, tag, linked) { ring, userData, flags in
            cshim_ring_prep_nop(ring, userData, flags)
        }
    }

    /// Submits everything prepared since the last submit. The owning loop calls
    /// this once per iteration; callers need not.
    @discardableResult
    public func submit() throws(Errno) -> Int {
        guard unsubmitted > 0 else { return 0 }
        let submitted = try Errno.check(cshim_ring_submit(ring))
        unsubmitted -= Int(submitted)
        return Int(submitted)
    }

    /// Dispatches every available completion; returns how many.
    @discardableResult
    func drainCompletions() -> Int {
        var total = 0
        while true {
            let count = Int(cshim_ring_drain(ring, completions, UInt32(Ring.drainBatch)))
            if count == 0 { return total }
            inFlight -= count
            total += count
            for i in 0..<count {
                let completion = completions[i]
                let clientIndex = Int(completion.user_data >> 48)
                guard clientIndex < clients.count, let handler = clients[clientIndex] else { continue }
                handler.ringCompleted(tag: completion.user_data & Ring.tagMax, result: completion.res)
            }
        }
    }

    /// Tells every registered handler that the loop exits (called once nothing is in flight),
    /// then lets go of them: a handler (an object store) usually holds its loop and this ring,
    /// so keeping it registered would keep all three alive for ever. The slots stay, empty, so
    /// a late `unregister` still finds its own.
    func loopExiting() {
        for case let handler? in clients { handler.ringLoopExiting() }
        for i in clients.indices { clients[i] = nil }
    }

    func clearEventFD() {
        _ = cshim_eventfd_drain(eventFD)
    }

    @inline(__always)
    private func prepare(
        _ client: RingClient, _ tag: UInt64, _ linked: Bool,
        _ prep: (UnsafeMutablePointer<io_uring>, UInt64, UInt8) -> Int32
    ) throws(Errno) {
        precondition(tag <= Ring.tagMax, "ring tag wider than 48 bits")
        precondition(Int(client.index) < clients.count && clients[Int(client.index)] != nil, "unregistered ring client")
        guard inFlight < completionsMax else { throw .busy }
        let userData = UInt64(client.index) << 48 | tag
        let flags = linked ? UInt8(CSHIM_IOSQE_IO_LINK) : 0
        var rc = prep(ring, userData, flags)
        if rc == -EBUSY {
            // SQ full: flush what is queued and take a fresh entry. A linked chain
            // cut here would lose its links, hence `reserve` before chains.
            try submit()
            rc = prep(ring, userData, flags)
        }
        _ = try Errno.check(rc)
        inFlight += 1
        unsubmitted += 1
    }
}
