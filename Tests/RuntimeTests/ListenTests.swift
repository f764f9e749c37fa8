import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Which hosts a listener takes (`ListeningSocket.listen`): "" is every interface of both
/// families, as Go's dual-stack `net.Listen("tcp", ":port")`; IP literals bind their family.
@Suite(.serialized)
struct ListenTests {
    @Test func everyInterfaceListenerAcceptsIPv4AndIPv6OnEveryLoop() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let port = try group.listen(host: "", port: 0) { _ in EchoHandler(stats: EchoStats()) }
        group.start()
        defer { group.shutdown() }
        // SO_REUSEPORT spreads both families over the loops: with 40 connections the chance
        // that one loop gets none is 2^-39.
        for client in 0..<40 {
            let host = client % 2 == 0 ? "127.0.0.1" : "::1"
            #expect(try echoRoundTrip(host: host, port: port, payload: [UInt8(client)]) == [UInt8(client)], "via \(host)")
        }
        let accepted = group.loops.map(\.acceptedConnections)
        #expect(accepted.reduce(0, +) == 40)
        #expect(accepted.allSatisfy { $0 > 0 }, "accepted per loop: \(accepted)")
    }

    /// What the server logs: the address the kernel bound, not the one asked for (every
    /// interface is `::` here; a kernel without IPv6 falls back to `0.0.0.0`).
    @Test(arguments: [("", "::"), ("127.0.0.1", "127.0.0.1"), ("::1", "::1")])
    func bindReportsTheBoundHostAndPort(host: String, bound: String) throws {
        let group = try EventLoopGroup(loopCount: 2)
        let address = try group.bind(host: host, port: 0) { _ in EchoHandler(stats: EchoStats()) }
        group.start()
        defer { group.shutdown() }
        #expect(address.host == bound)
        #expect(address.port != 0)
        let client = bound == "::1" ? "::1" : "127.0.0.1"
        #expect(try echoRoundTrip(host: client, port: address.port, payload: [7]) == [7])
    }

    @Test func ipv6LiteralListenerAcceptsIPv6AndReportsItsPort() throws {
        let listener = try ListeningSocket.listen(host: "::1", port: 0, reusePort: false)
        defer { listener.close() }
        let port = try listener.localPort
        #expect(port != 0)
        let client = try Socket.connect(to: try #require(EndpointAddress.literal("::1", port: Int(port))))
        defer { client.close() }
        #expect(waitUntil {
            guard let accepted = try? listener.accept() else { return false }
            accepted.close()
            return true
        })
        // Bound to ::1 only: the same port on 127.0.0.1 has no listener.
        #expect(throws: Errno(rawValue: ECONNREFUSED)) { try Socket.connect(ipv4: "127.0.0.1", port: port) }
    }

    @Test func ipv4LiteralListenerRefusesIPv6() throws {
        let listener = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { listener.close() }
        let port = Int(try listener.localPort)
        #expect(throws: Errno(rawValue: ECONNREFUSED)) { try Socket.connect(to: EndpointAddress.literal("::1", port: port)!) }
    }

    @Test(arguments: ["localhost", "[::1]", "127.1", "::1%", "0.0.0.0:80", " "])
    func hostThatIsNotAnIPLiteralIsInvalidArgument(host: String) {
        #expect(throws: Errno.invalidArgument) { try ListeningSocket.listen(host: host, port: 0, reusePort: false) }
    }
}

/// `host:port` as flags and authorities write it (Go's `net.JoinHostPort` / `SplitHostPort`).
@Suite struct HostPortTests {
    @Test func ipv6HostsAreBracketed() {
        #expect(EndpointAddress.hostPort("::1", port: 9095) == "[::1]:9095")
        #expect(EndpointAddress.hostPort("10.0.0.1", port: 9095) == "10.0.0.1:9095")
        #expect(EndpointAddress.hostPort("writer-0.svc", port: 9095) == "writer-0.svc:9095")
    }

    @Test func splitTakesNamesIPv4AndBracketedIPv6() {
        #expect(EndpointAddress.splitHostPort("[::1]:9095")! == ("::1", 9095))
        #expect(EndpointAddress.splitHostPort("127.0.0.1:9095")! == ("127.0.0.1", 9095))
        #expect(EndpointAddress.splitHostPort("writer-0.svc:9095")! == ("writer-0.svc", 9095))
        for malformed in ["::1:9095", "127.0.0.1", ":9095", "[]:9095", "host:", "host:65536", "[::1]9095", "a]:1"] {
            #expect(EndpointAddress.splitHostPort(malformed) == nil, "\(malformed)")
        }
    }
}
