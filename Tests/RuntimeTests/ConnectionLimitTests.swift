import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One byte out, its echo back within `timeoutMs`; false when nothing came (the connection
/// waits in the listen backlog, not accepted).
private func echoes(_ socket: Socket, timeoutMs: Int32) throws -> Bool {
    var byte: UInt8 = 42
    try withUnsafeBytes(of: &byte) { try socket.writeAll($0) }
    var poll = pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)
    guard Glibc.poll(&poll, 1, timeoutMs) == 1 else { return false }
    var echo = [UInt8](repeating: 0, count: 1)
    return try echo.withUnsafeMutableBytes { try socket.read(into: $0) } == 1 && echo[0] == 42
}

@Suite(.serialized)
struct ConnectionLimitTests {
    @Test func atTheLimitConnectionsWaitUntilOneCloses() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let stats = EchoStats()
        let limit = ConnectionLimit(maximum: 2)
        let port = try group.bind(host: "127.0.0.1", port: 0, limit: limit) { _ in EchoHandler(stats: stats) }.port
        group.start()
        defer { group.shutdown() }

        let address = EndpointAddress.literal("127.0.0.1", port: Int(port))!
        let first = try Socket.connect(to: address), second = try Socket.connect(to: address)
        defer { second.close() }
        #expect(try echoes(first, timeoutMs: 5_000))
        #expect(try echoes(second, timeoutMs: 5_000))
        // The third is connected by the kernel (listen backlog) but not accepted: no echo.
        let third = try Socket.connect(to: address)
        defer { third.close() }
        #expect(try !echoes(third, timeoutMs: 300))
        #expect(limit.openCount == 2)
        first.close()
        // Served once the first has closed, whichever loop either is on.
        var poll = pollfd(fd: third.fileDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(Glibc.poll(&poll, 1, 5_000) == 1)
        #expect(limit.openCount == 2)
        #expect(group.loops.map(\.acceptedConnections).reduce(0, +) == 3)
    }

    @Test func aLoopWithoutAFreeSlotClosesTheConnectionAndSaysSo() throws {
        let refusedOn = Mutex<[UInt16]>([])
        var configuration = EventLoopConfiguration()
        configuration.connectionsMax = 2
        configuration.connectionRefused = { port in refusedOn.withLock { $0.append(port) } }
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        defer { group.shutdown() }

        let address = EndpointAddress.literal("127.0.0.1", port: Int(port))!
        let first = try Socket.connect(to: address), second = try Socket.connect(to: address)
        defer { first.close(); second.close() }
        #expect(try echoes(first, timeoutMs: 5_000) && echoes(second, timeoutMs: 5_000))
        let third = try Socket.connect(to: address)
        defer { third.close() }
        var buffer = [UInt8](repeating: 0, count: 1)
        #expect((try? buffer.withUnsafeMutableBytes { try third.read(into: $0) }) ?? 0 == 0, "closed at once")
        #expect(refusedOn.withLock { $0 } == [port])
        #expect(group.loops[0].rejectedConnections == 1)
    }
}
