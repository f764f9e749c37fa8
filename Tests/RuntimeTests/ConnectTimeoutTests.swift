import Runtime
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `Socket.connect(to:timeoutMs:)`, the blocking connect of the threads beside the loops
/// (ring registration, the blocking S3 store).
@Suite struct ConnectTimeoutTests {
    @Test func connectsRefusesAndTimesOut() throws {
        let listener = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { listener.close() }
        let live = EndpointAddress.literal("127.0.0.1", port: Int(try listener.localPort))!
        let socket = try Socket.connect(to: live, timeoutMs: 1000)
        socket.close()

        let closed = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        let closedPort = Int(try closed.localPort)
        closed.close()
        #expect(throws: Errno(rawValue: ECONNREFUSED)) {
            try Socket.connect(to: EndpointAddress.literal("127.0.0.1", port: closedPort)!, timeoutMs: 1000)
        }

        let blackHoled = try BlackHoledPort()
        defer { blackHoled.close() }
        let startNs = EventLoop.monotonicNowNs
        #expect(throws: Errno(rawValue: ETIMEDOUT)) {
            try Socket.connect(to: EndpointAddress.literal("127.0.0.1", port: blackHoled.port)!, timeoutMs: 300)
        }
        let tookMs = (EventLoop.monotonicNowNs - startNs) / 1_000_000
        #expect((300 ..< 1_000).contains(tookMs))
    }
}
