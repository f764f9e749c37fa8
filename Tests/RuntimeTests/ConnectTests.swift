import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized)
struct ConnectTests {
    @Test func outboundConnectionWritesBeforeConnectCompletesAndReadsTheEcho() throws {
        let server = try EventLoopGroup(loopCount: 1)
        let port = try server.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: EchoStats()) }
        server.start()
        defer { server.shutdown() }
        #expect(try connectAndSendHello { loop, handler throws(Errno) in try loop.connect(ipv4: "127.0.0.1", port: port, handler: handler) }
            == ["opened", "received hello", "closed nil"])
    }

    @Test func refusedConnectArrivesAsConnectionClosedWithTheError() throws {
        let port = try refusedPort()
        #expect(try connectAndSendHello { loop, handler throws(Errno) in try loop.connect(ipv4: "127.0.0.1", port: port, handler: handler) }
            == ["closed \(ECONNREFUSED)"])
    }

    // `connect(to:)` takes what getaddrinfo gives (`EndpointAddress`), IPv4 or IPv6.

    @Test func resolvedAddressConnectsLikeAnIPv4Literal() throws {
        let server = try EventLoopGroup(loopCount: 1)
        let port = try server.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: EchoStats()) }
        server.start()
        defer { server.shutdown() }
        let address = try #require(try EndpointAddress.resolve("127.0.0.1", port: Int(port)).first)
        #expect(try connectAndSendHello { loop, handler throws(Errno) in try loop.connect(to: address, handler: handler) }
            == ["opened", "received hello", "closed nil"])
    }

    @Test func ipv6AddressIsDialled() throws {
        // Nothing listens on [::1] at a port just released on 127.0.0.1: the refusal proves the
        // connect went out as IPv6 (an IPv4 sockaddr would not reach ::1).
        let port = Int(try refusedPort())
        let address = try #require(EndpointAddress.literal("::1", port: port))
        #expect(address.family == AF_INET6 && address.description == "[::1]:\(port)")
        #expect(try connectAndSendHello { loop, handler throws(Errno) in try loop.connect(to: address, handler: handler) }
            == ["closed \(ECONNREFUSED)"])
    }

    /// A port that was just listened on and closed: connects to it are refused.
    private func refusedPort() throws -> UInt16 {
        let probe = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { probe.close() }
        return try probe.localPort
    }

    /// Connects with `connect` on a client loop and writes "hello" before the connect completes;
    /// the client's events until the close (an immediate refusal is recorded as a close too).
    private func connectAndSendHello(
        _ connect: @escaping @Sendable (EventLoop, RecordingClient) throws(Errno) -> ConnectionID
    ) throws -> [String] {
        let client = try EventLoopGroup(loopCount: 1)
        client.start()
        defer { client.shutdown() }
        let events = Recorder<String>()
        let loop = client.loops[0]
        #expect(loop.post {
            do throws(Errno) {
                let id = try connect(loop, RecordingClient(events: events, expectedBytes: 5))
                Array("hello".utf8).withUnsafeBytes { loop.connection(id)?.write($0) }
            } catch {
                events.append("closed \(error.rawValue)")
            }
        })
        #expect(waitUntil { events.values.last?.hasPrefix("closed") == true })
        return events.values
    }
}

/// Records the life of an outbound connection; closes once it has `expectedBytes`.
final class RecordingClient: ConnectionHandler {
    let events: Recorder<String>
    let expectedBytes: Int
    private var received: [UInt8] = []

    init(events: Recorder<String>, expectedBytes: Int) {
        self.events = events
        self.expectedBytes = expectedBytes
    }

    func connectionOpened(_ connection: Connection) {
        events.append("opened")
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        received.append(contentsOf: bytes)
        if received.count >= expectedBytes {
            events.append("received " + String(decoding: received, as: UTF8.self))
            connection.close()
        }
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        events.append("closed " + (error.map { "\($0.rawValue)" } ?? "nil"))
    }
}
