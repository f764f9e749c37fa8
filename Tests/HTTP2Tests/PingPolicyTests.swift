import BinaryCoding
import Testing
@testable import HTTP2

/// grpc-go's keepalive enforcement in the server role, clock set by hand.
@Suite struct PingPolicyTests {
    private let s: UInt64 = 1_000_000_000
    private let ping = rawFrame(6, stream: 0, [1, 2, 3, 4, 5, 6, 7, 8])

    private func server(permitWithoutStream: Bool = false) -> (HTTP2Connection, ByteWriter, ConnectionTests.Client) {
        let (conn, out) = ConnectionTests.server { $0.pingPolicy = HTTP2PingPolicy(minIntervalNs: 1_000_000_000, permitWithoutStream: permitWithoutStream) }
        let client = ConnectionTests.Client()
        var o = out
        feed(conn, client.preface(), out: &o)
        return (conn, o, client)
    }

    /// Sends one PING at `t` seconds; the connection's error code if it ended.
    private func pingAt(_ t: UInt64, _ conn: HTTP2Connection, _ out: inout ByteWriter) -> HTTP2ErrorCode? {
        conn.clockNs = t * s
        return feed(conn, ping, out: &out).last?.connectionErrorCode
    }

    @Test func pingsAtTheMinimumIntervalAreFine() {
        var (conn, out, client) = server()
        feed(conn, client.headers(1), out: &out)  // a stream is open
        for t in stride(from: UInt64(10), through: 30, by: 1) { #expect(pingAt(t, conn, &out) == nil) }
        #expect(!conn.isClosed)
    }

    @Test func theThirdStrikeEndsTheConnectionWithTooManyPings() {
        var (conn, out, client) = server()
        feed(conn, client.headers(1), out: &out)
        #expect(pingAt(10, conn, &out) == nil)   // the first ping is never a strike
        #expect(pingAt(10, conn, &out) == nil)   // strike 1
        #expect(pingAt(10, conn, &out) == nil)   // strike 2
        #expect(pingAt(10, conn, &out) == .enhanceYourCalm)
        let goAway = splitFrames(out.bytes).last!
        #expect(goAway.0.type == .goAway && Array(goAway.1[8...]) == Array("too_many_pings".utf8))
        #expect(conn.isClosed)
    }

    @Test func whatWeSendForgivesTheStrikes() {
        var (conn, out, client) = server()
        feed(conn, client.headers(1), out: &out)
        #expect(pingAt(10, conn, &out) == nil)
        #expect(pingAt(10, conn, &out) == nil)
        #expect(pingAt(10, conn, &out) == nil)   // two strikes
        conn.sendHeaders(fields([(":status", "200")]), on: StreamID(1), endStream: false, into: &out)
        #expect(pingAt(10, conn, &out) == nil)   // forgiven: strikes back to 0
        #expect(pingAt(10, conn, &out) == nil)
        #expect(pingAt(10, conn, &out) == nil)
        #expect(pingAt(10, conn, &out) == .enhanceYourCalm)
    }

    @Test func withoutAStreamPingsMustBeTwoHoursApartUnlessPermitted() {
        var (conn, out, _) = server()
        for t: UInt64 in [10, 70, 130] { #expect(pingAt(t, conn, &out) == nil) }
        #expect(pingAt(190, conn, &out) == .enhanceYourCalm)

        var (permitted, out2, _) = server(permitWithoutStream: true)
        for t in stride(from: UInt64(10), through: 200, by: 60) { #expect(pingAt(t, permitted, &out2) == nil) }
        #expect(!permitted.isClosed)
    }

    @Test func withoutAPolicyEveryPingIsAnswered() {
        var (conn, out) = ConnectionTests.server()
        feed(conn, ConnectionTests.Client().preface(), out: &out)
        for _ in 0..<100 { feed(conn, ping, out: &out) }
        #expect(!conn.isClosed)
        #expect(splitFrames(out.bytes).filter { $0.0.type == .ping }.count == 100)
    }
}
