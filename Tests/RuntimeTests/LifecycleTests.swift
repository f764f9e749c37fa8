import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized)
struct LifecycleTests {
    @Test func stopClosesListenersAndConnectionsAndJoins() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        let clients = try (0..<4).map { _ in try Socket.connect(ipv4: "127.0.0.1", port: port) }
        defer { for client in clients { client.close() } }
        for client in clients {
            #expect(try exchange(client, [7]) == [7])
        }

        let startNs = monotonicNs()
        group.shutdown()
        #expect(monotonicNs() - startNs < 2_000_000_000, "stop must not hang")

        #expect(stats.snapshot.closed == 4)
        #expect(stats.snapshot.errors == 0)
        var byte: UInt8 = 0
        for client in clients {
            let n = try withUnsafeMutableBytes(of: &byte) { try client.read(into: $0) }
            #expect(n == 0, "clients see end of stream")
        }
        #expect(throws: Errno(rawValue: ECONNREFUSED)) { try Socket.connect(ipv4: "127.0.0.1", port: port) }
        #expect(!group.loops[0].post {})
    }

    @Test func acknowledgementRoutedByConnectionIDReachesTheOwningLoop() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in RoutingHandler(group: group) }
        group.start()
        defer { group.shutdown() }
        for _ in 0..<6 {
            let client = try Socket.connect(ipv4: "127.0.0.1", port: port)
            defer { client.close() }
            #expect(try exchange(client, Array("push".utf8), expecting: 3) == Array("ack".utf8))
        }
    }

    @Test func closeFromHandlerSendsQueuedBytesFirst() throws {
        let group = try EventLoopGroup(loopCount: 1)
        let response = testBytes(count: 2 << 20, seed: 3)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in ReplyAndCloseHandler(response: response) }
        group.start()
        defer { group.shutdown() }
        let client = try Socket.connect(ipv4: "127.0.0.1", port: port)
        defer { client.close() }
        try [UInt8(1)].withUnsafeBytes { try client.writeAll($0) }
        usleep(100_000)  // let the server's queue build up before reading
        #expect(try readToEnd(client) == response)
    }

    @Test func replyAfterPeerHalfCloseStillArrives() throws {
        let group = try EventLoopGroup(loopCount: 1)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in DeferredReplyHandler() }
        group.start()
        defer { group.shutdown() }
        let client = try Socket.connect(ipv4: "127.0.0.1", port: port)
        defer { client.close() }
        try Array("request".utf8).withUnsafeBytes { try client.writeAll($0) }
        try client.shutdownWrite()  // like an HTTP/1.1 client that sends and waits
        #expect(try readToEnd(client) == Array("reply".utf8))
    }

    @Test func outboundQueuePastItsCapClosesWithNoBufferSpace() throws {
        var configuration = EventLoopConfiguration()
        configuration.outboundHighWatermarkBytes = 64 * 1024
        configuration.outboundLowWatermarkBytes = 16 * 1024
        configuration.outboundBytesMax = 1 << 20
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        let closeError = Mutex<Errno??>(nil)
        // Answers each byte with 16 MiB, far beyond the cap, to a client that never reads.
        let flood = testBytes(count: 16 << 20, seed: 9)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in
            FloodHandler(response: flood) { error in closeError.withLock { $0 = .some(error) } }
        }
        group.start()
        defer { group.shutdown() }
        let client = try Socket.connect(ipv4: "127.0.0.1", port: port)
        defer { client.close() }
        try [UInt8(1)].withUnsafeBytes { try client.writeAll($0) }
        #expect(waitUntil { closeError.withLock { $0 } != nil })
        #expect(closeError.withLock { $0 } == .some(.noBufferSpace))
    }

    @Test func acceptsBeyondConnectionsMaxAreClosedAtOnce() throws {
        var configuration = EventLoopConfiguration()
        configuration.connectionsMax = 2
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        defer { group.shutdown() }
        let kept = try (0..<2).map { _ in try Socket.connect(ipv4: "127.0.0.1", port: port) }
        defer { for client in kept { client.close() } }
        for client in kept { #expect(try exchange(client, [1]) == [1]) }
        let extra = try Socket.connect(ipv4: "127.0.0.1", port: port)
        defer { extra.close() }
        #expect(try readToEnd(extra).isEmpty)
        #expect(group.loops[0].rejectedConnections == 1)
        #expect(group.loops[0].acceptedConnections == 2)
    }
}

/// Models a Push whose shard lives on the other loop: the bytes' owner posts the
/// connection's ID to the shard loop, which later posts the acknowledgement back.
final class RoutingHandler: ConnectionHandler {
    let group: EventLoopGroup

    init(group: EventLoopGroup) {
        self.group = group
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        let id = connection.id
        let owner = group.loops[id.loopIndex]
        let shardLoop = group.loop(for: UInt32(id.loopIndex + 1))
        precondition(shardLoop !== owner)
        _ = shardLoop.post {
            _ = owner.post {
                guard let connection = owner.connection(id) else { return }
                Array("ack".utf8).withUnsafeBytes { connection.write($0) }
            }
        }
    }
}

/// Replies only after the peer's end of stream, from a timer, then closes.
final class DeferredReplyHandler: ConnectionHandler {
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {}

    func inputClosed(_ connection: Connection) {
        connection.loop.scheduleTimer(afterMs: 50) { _ in
            Array("reply".utf8).withUnsafeBytes { connection.write($0) }
            connection.close()
        }
    }
}

final class FloodHandler: ConnectionHandler {
    let response: [UInt8]
    let closed: (Errno?) -> Void

    init(response: [UInt8], closed: @escaping (Errno?) -> Void) {
        self.response = response
        self.closed = closed
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        response.withUnsafeBytes { connection.write($0) }
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        closed(error)
    }
}

final class ReplyAndCloseHandler: ConnectionHandler {
    let response: [UInt8]

    init(response: [UInt8]) {
        self.response = response
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        response.withUnsafeBytes { connection.write($0) }
        connection.close()
    }
}

func exchange(_ socket: Socket, _ request: [UInt8], expecting count: Int? = nil) throws -> [UInt8] {
    try request.withUnsafeBytes { try socket.writeAll($0) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64)
    while received.count < (count ?? request.count) {
        let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) ?? 0 }
        if n == 0 { break }
        received.append(contentsOf: buffer[..<n])
    }
    return received
}

func readToEnd(_ socket: Socket) throws -> [UInt8] {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) ?? 0 }
        if n == 0 { return received }
        received.append(contentsOf: buffer[..<n])
    }
}

func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
