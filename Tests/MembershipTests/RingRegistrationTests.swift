import Runtime
import Synchronization
import Testing
@testable import Membership
#if canImport(Glibc)
import Glibc
#endif

/// The heartbeat thread against a member that records what it receives (the push/pull framing
/// itself is checked against hashicorp/memberlist in Tests/Python/test_ring_membership.py).
@Suite(.serialized) struct RingRegistrationTests {
    static func settings(_ members: [String], periodMs: UInt64 = 50, unregister: Bool = false) -> RingRegistration.Settings {
        let now = RingRegistration.unixSeconds()
        return RingRegistration.Settings(
            instance: InstanceDesc(id: "w1", addr: "127.0.0.1:9095", timestamp: now, state: .active, tokens: [1, 2, 3, 4],
                                   registeredTimestamp: now),
            key: "collectors/segment-writer-ring", heartbeatPeriodNs: periodMs * 1_000_000,
            members: members.compactMap(JoinMember.init), clusterLabel: "", unregisterOnShutdown: unregister,
            exchangeTimeoutMs: 500)
    }

    @Test func heartbeatsThenLeavesWithANewerTimestamp() throws {
        let member = try RecordingMember()
        let events = Mutex<[RingRegistration.Event]>([])
        let registration = RingRegistration(settings: Self.settings(["127.0.0.1:\(member.port)"])) { e in events.withLock { $0.append(e) } }
        registration.start()
        try member.waitFor(count: 3)
        registration.leave()
        let received = member.received()
        let states = try received.map { try RingDescReading(snappyLiterals: PushPullReading($0).pairs[0].value).instances["w1"]! }
        #expect(states.dropLast().allSatisfy { $0.state == .active })
        #expect(states.last?.state == .leaving)
        let lastActive = states.dropLast().map(\.timestamp).max()!
        #expect(states.last!.timestamp > lastActive, "LEAVING must win the merge, even within the heartbeat's second")
        #expect(states.allSatisfy { $0.tokens == [1, 2, 3, 4] && $0.addr == "127.0.0.1:9095" })
        let first = events.withLock { $0.compactMap { if case .published(_, _, let first) = $0 { first } else { nil } } }
        #expect(first.first == true && first.dropFirst().allSatisfy { !$0 })
        member.stop()
    }

    @Test func unregisterOnShutdownPublishesLeft() throws {
        let member = try RecordingMember()
        let registration = RingRegistration(settings: Self.settings(["127.0.0.1:\(member.port)"], periodMs: 60_000, unregister: true)) { _ in }
        registration.start()
        try member.waitFor(count: 1)
        registration.leave()
        let last = try #require(member.received().last)
        #expect(try RingDescReading(snappyLiterals: PushPullReading(last).pairs[0].value).instances["w1"]?.state == .left)
        member.stop()
    }

    @Test func anUnreachableMemberIsReportedAndAnotherTaken() throws {
        let member = try RecordingMember()
        let closed = try RecordingMember()
        let closedPort = closed.port
        closed.stop()
        let events = Mutex<[RingRegistration.Event]>([])
        let registration = RingRegistration(settings: Self.settings(["127.0.0.1:\(closedPort)", "127.0.0.1:\(member.port)"])) { e in
            events.withLock { $0.append(e) }
        }
        registration.start()
        try member.waitFor(count: 6)
        registration.leave()
        let failures = events.withLock { $0.compactMap { if case .memberFailed(let m, _) = $0 { m } else { nil } } }
        #expect(!failures.isEmpty && failures.allSatisfy { $0 == "127.0.0.1:\(closedPort)" })
        #expect(!events.withLock { $0.contains { if case .noMemberReached = $0 { true } else { false } } })
        member.stop()
    }

    @Test func noMemberReachedIsReportedAndLeaveStillReturns() throws {
        let closed = try RecordingMember()
        let port = closed.port
        closed.stop()
        let events = Mutex<[RingRegistration.Event]>([])
        let registration = RingRegistration(settings: Self.settings(["127.0.0.1:\(port)"])) { e in events.withLock { $0.append(e) } }
        registration.start()
        let start = EventLoop.monotonicNowNs
        while events.withLock({ $0.isEmpty }) && EventLoop.monotonicNowNs - start < 5_000_000_000 { usleep(10_000) }
        registration.leave()
        let reports = events.withLock { $0 }
        #expect(reports.contains { if case .noMemberReached(.active) = $0 { true } else { false } })
        #expect(reports.contains { if case .noMemberReached(.leaving) = $0 { true } else { false } })
    }
}

/// A TCP listener on 127.0.0.1 that reads each connection's push/pull (its length from the
/// msgpack header), answers a few bytes as a member's reply would, and closes.
final class RecordingMember: Sendable {
    let fd: Int32
    let port: Int
    private let messages = Mutex<[[UInt8]]>([])
    private let stopped = Atomic<Bool>(false)
    private let thread = Mutex<OSThread?>(nil)

    init() throws {
        // The runtime's listener, made blocking for this test's accept thread.
        let listener = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        fd = listener.socket.fileDescriptor
        port = Int(try listener.localPort)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let spawned = OSThread.spawn { [self] in serve() }
        thread.withLock { $0 = spawned }
    }

    func received() -> [[UInt8]] { messages.withLock { $0 } }

    func waitFor(count: Int) throws {
        let start = EventLoop.monotonicNowNs
        while received().count < count {
            guard EventLoop.monotonicNowNs - start < 5_000_000_000 else { throw Errno(rawValue: ETIMEDOUT) }
            usleep(5000)
        }
    }

    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        shutdown(fd, Int32(SHUT_RDWR))
        thread.withLock { $0?.join() }
        close(fd)
    }

    private func serve() {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Self.expectedLength(bytes).map({ bytes.count < $0 }) ?? true {
                let n = recv(client, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                bytes += buffer[..<n]
            }
            messages.withLock { $0.append(bytes) }
            _ = send(client, [6, 0x83], 2, Int32(MSG_NOSIGNAL))
            close(client)
        }
    }

    /// The whole message's length once its header has arrived (no cluster label).
    static func expectedLength(_ b: [UInt8]) -> Int? {
        let marker = 23 // stream, pushPull, fixmap, "Nodes", 0, "UserStateLen"
        guard b.count > marker else { return nil }
        let (length, size): (Int, Int) = switch b[marker] {
        case 0xCC: b.count > marker + 1 ? (Int(b[marker + 1]), 2) : (-1, 0)
        case 0xCD: b.count > marker + 2 ? (Int(b[marker + 1]) << 8 | Int(b[marker + 2]), 3) : (-1, 0)
        default: (Int(b[marker]), 1)
        }
        guard length >= 0 else { return nil }
        return marker + size + 6 + length // "Join", false
    }
}
