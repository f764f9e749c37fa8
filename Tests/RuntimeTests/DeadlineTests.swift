import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// How many times a deadline passed, read from the test's thread.
private final class PassCount: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// Sets a deadline `timeoutMs` after the connection opens and moves it on with every read
/// (an idle timeout); `deadlinePassed` is counted and then closes as the default does.
private final class IdleTimeoutHandler: ConnectionHandler {
    let timeoutMs: UInt64
    let passed: PassCount

    init(timeoutMs: UInt64, passed: PassCount) {
        self.timeoutMs = timeoutMs
        self.passed = passed
    }

    func connectionOpened(_ connection: Connection) { rearm(connection) }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        connection.write(bytes)
        rearm(connection)
    }

    func deadlinePassed(_ connection: Connection) {
        passed.add()
        connection.close()
    }

    private func rearm(_ connection: Connection) {
        connection.deadlineNs = EventLoop.monotonicNowNs + timeoutMs * 1_000_000
    }
}

/// Reads until end of stream or an error; the milliseconds that took.
private func millisecondsUntilClosed(_ socket: Socket) -> UInt64 {
    let start = EventLoop.monotonicNowNs
    var buffer = [UInt8](repeating: 0, count: 1024)
    while true {
        let n = (try? buffer.withUnsafeMutableBytes { try socket.read(into: $0) ?? 0 }) ?? 0
        if n == 0 { break }
    }
    return (EventLoop.monotonicNowNs - start) / 1_000_000
}

@Suite(.serialized)
struct DeadlineTests {
    /// One loop sweeping every 20 ms, serving `makeHandler`'s connections; a connected client.
    private func serve(_ makeHandler: @escaping @Sendable (EventLoop) -> any ConnectionHandler) throws -> (EventLoopGroup, Socket) {
        var configuration = EventLoopConfiguration()
        configuration.deadlineResolutionMs = 20
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        let port = try group.listen(host: "127.0.0.1", port: 0, makeHandler: makeHandler)
        group.start()
        return (group, try Socket.connect(to: EndpointAddress.literal("127.0.0.1", port: Int(port))!))
    }

    @Test func aSilentConnectionIsClosedAtItsDeadline() throws {
        let passed = PassCount()
        let (group, socket) = try serve { _ in IdleTimeoutHandler(timeoutMs: 300, passed: passed) }
        defer { group.shutdown() }
        defer { socket.close() }
        let waited = millisecondsUntilClosed(socket)
        #expect(waited >= 250 && waited < 2_000, "closed after \(waited) ms")
        #expect(passed.count == 1)
    }

    @Test func readsMoveTheDeadlineOn() throws {
        let passed = PassCount()
        let (group, socket) = try serve { _ in IdleTimeoutHandler(timeoutMs: 300, passed: passed) }
        defer { group.shutdown() }
        defer { socket.close() }
        // Ten bytes 100 ms apart: a second in all, never 300 ms of silence.
        var echo = [UInt8](repeating: 0, count: 1)
        for i in 0..<10 {
            usleep(100_000)
            var byte = UInt8(i)
            try withUnsafeBytes(of: &byte) { try socket.writeAll($0) }
            let n = try echo.withUnsafeMutableBytes { try socket.read(into: $0) ?? 0 }
            #expect(n == 1 && echo[0] == UInt8(i))
        }
        #expect(passed.count == 0)
        let waited = millisecondsUntilClosed(socket)
        #expect(waited >= 250 && waited < 2_000, "closed after \(waited) ms of silence")
        #expect(passed.count == 1)
    }

    @Test func withoutADeadlineNothingIsClosed() throws {
        let stats = EchoStats()
        let (group, socket) = try serve { _ in EchoHandler(stats: stats) }
        defer { group.shutdown() }
        defer { socket.close() }
        usleep(400_000)
        #expect(stats.snapshot.closed == 0)
    }
}
