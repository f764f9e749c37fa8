import BinaryCoding
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps this writer in Pyroscope's segment-writer ring (ingest-and-ops.md §3.7) the way
/// dskit's lifecycler does with `join_after` 0: ACTIVE with its tokens from the start, a
/// heartbeat (a fresh `timestamp`) every period, LEAVING (or LEFT with
/// `unregister-on-shutdown`) when it stops. Each publication is one push/pull
/// (`PushPullMessage`) to one member of `-memberlist.join`, tried in a shuffled order until one
/// takes it; that member gossips it to the rest of the cluster.
///
/// Runs on a thread of its own with blocking calls (DNS lookups and one short TCP exchange per
/// period): a cold path, kept off the event loops. A member that cannot be reached is reported
/// and the next one tried; none reachable is reported and retried at the next heartbeat, so the
/// writer serves while the cluster's gossip members start.
public final class RingRegistration: Sendable {
    public struct Settings: Sendable {
        public var instance: InstanceDesc
        /// `<prefix>segment-writer-ring`.
        public var key: String
        public var heartbeatPeriodNs: UInt64
        public var members: [JoinMember]
        public var clusterLabel: String
        /// Publish LEFT (the entry removed) rather than LEAVING on `leave()`.
        public var unregisterOnShutdown: Bool
        /// Bound of one exchange with a member, connect to the member's close.
        public var exchangeTimeoutMs: Int

        public init(instance: InstanceDesc, key: String, heartbeatPeriodNs: UInt64, members: [JoinMember],
                    clusterLabel: String, unregisterOnShutdown: Bool, exchangeTimeoutMs: Int = 2000) {
            self.instance = instance
            self.key = key
            self.heartbeatPeriodNs = heartbeatPeriodNs
            self.members = members
            self.clusterLabel = clusterLabel
            self.unregisterOnShutdown = unregisterOnShutdown
            self.exchangeTimeoutMs = exchangeTimeoutMs
        }
    }

    public enum Event: Sendable {
        /// The entry reached `member` (`first`: the first time since start).
        case published(member: String, state: InstanceDesc.State, first: Bool)
        case memberFailed(member: String, error: String)
        /// No member took this heartbeat's entry.
        case noMemberReached(state: InstanceDesc.State)
        /// The ring as the member that took a heartbeat holds it (before merging that heartbeat).
        case ringSeen(member: String, instances: [RingInstance])
        /// The member's reply to a heartbeat could not be read as a ring.
        case ringUnreadable(member: String, error: String)
    }

    private let settings: Settings
    private let resolver: EndpointResolver
    private let onEvent: @Sendable (Event) -> Void
    /// A pipe that wakes the thread early: `leave()` writes to `[1]`, the thread polls `[0]`.
    private let wakePipe: (read: Int32, write: Int32)
    private let thread = Mutex<OSThread?>(nil)
    private let stopping = Atomic<Bool>(false)

    public init(settings: Settings, resolver: @escaping EndpointResolver = EndpointAddress.resolve,
                onEvent: @escaping @Sendable (Event) -> Void) {
        precondition(settings.heartbeatPeriodNs > 0, "a heartbeat period must be positive")
        self.settings = settings
        self.resolver = resolver
        self.onEvent = onEvent
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0, "pipe: \(Errno(rawValue: errno))")
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Starts heartbeating (the first publication right away).
    public func start() {
        thread.withLock { thread in
            precondition(thread == nil, "RingRegistration started twice")
            thread = OSThread.spawn { [self] in heartbeat() }
        }
    }

    /// Stops heartbeating and publishes the instance as LEAVING (LEFT with
    /// `unregisterOnShutdown`) with a newer timestamp, to up to three members; returns once
    /// done (each exchange bounded by `exchangeTimeoutMs`).
    public func leave() {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        var one: UInt8 = 1
        _ = write(wakePipe.write, &one, 1)
        thread.withLock { $0?.join() }
        var instance = settings.instance
        instance.state = settings.unregisterOnShutdown ? .left : .leaving
        // Strictly newer than the last heartbeat (a merge takes only a greater timestamp, LEFT
        // an equal one too), even within the heartbeat's second.
        instance.timestamp = max(Self.unixSeconds(), lastTimestamp.load(ordering: .relaxed) + 1)
        publish(instance, toAtMost: 3)
    }

    private let lastTimestamp = Atomic<Int64>(0)
    private let published = Atomic<Bool>(false)

    private func heartbeat() {
        var next = EventLoop.monotonicNowNs
        while !stopping.load(ordering: .sequentiallyConsistent) {
            let now = EventLoop.monotonicNowNs
            if now < next {
                var p = pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, Int32(clamping: (next - now + 999_999) / 1_000_000))
                continue
            }
            var instance = settings.instance
            instance.timestamp = Self.unixSeconds()
            lastTimestamp.store(instance.timestamp, ordering: .relaxed)
            publish(instance, toAtMost: 1)
            next = max(next &+ settings.heartbeatPeriodNs, EventLoop.monotonicNowNs &+ settings.heartbeatPeriodNs / 2)
        }
    }

    /// Sends `instance` to members in a shuffled order until `count` took it or all were tried.
    private func publish(_ instance: InstanceDesc, toAtMost count: Int) {
        let message = PushPullMessage.ring(instance, key: settings.key, nowMillis: Self.unixSeconds() * 1000,
                                           clusterLabel: settings.clusterLabel)
        var reached = 0
        for address in resolveMembers().shuffled() where reached < count {
            do {
                let reply = try BlockingStream.exchange(message, with: address, timeoutMs: settings.exchangeTimeoutMs,
                                                        maxReplyBytes: Self.maxReplyBytes)
                reached += 1
                let first = !published.exchange(true, ordering: .relaxed)
                onEvent(.published(member: address.description, state: instance.state, first: first))
                if instance.state == .active { readRing(reply, from: address.description, published: instance) }
            } catch {
                onEvent(.memberFailed(member: address.description, error: error.description))
            }
        }
        if reached == 0 { onEvent(.noMemberReached(state: instance.state)) }
    }

    /// A member's reply larger than this is not read as a ring (a ring of thousands of
    /// instances is a few MB; the rest of a member's state is small).
    static let maxReplyBytes = 32 << 20

    private func readRing(_ reply: [UInt8]?, from member: String, published: InstanceDesc) {
        guard let reply else {
            onEvent(.ringUnreadable(member: member, error: "reply longer than \(Self.maxReplyBytes) bytes"))
            return
        }
        do {
            let instances = try reply.withUnsafeBytes { bytes in
                Result { () throws(DecodeError) in try MemberlistReply.ringInstances(bytes, key: settings.key) }
            }.get()
            onEvent(.ringSeen(member: member, instances: RingInstance.merging(RingInstance(published), into: instances)))
        } catch {
            onEvent(.ringUnreadable(member: member, error: error.description))
        }
    }

    /// Every address of every join entry (looked up again each time: a headless Service's
    /// records follow its pods).
    private func resolveMembers() -> [EndpointAddress] {
        var addresses: [EndpointAddress] = []
        for member in settings.members {
            do {
                addresses += try resolver(member.host, Int(member.port))
            } catch {
                onEvent(.memberFailed(member: member.description, error: error.description))
            }
        }
        return addresses
    }

    public static func unixSeconds() -> Int64 { EventLoop.realtimeNowNs / 1_000_000_000 }
}
