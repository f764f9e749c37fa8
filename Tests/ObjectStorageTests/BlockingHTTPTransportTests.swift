import HTTP1
import ObjectStorage
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server on its own thread: answers each request with its target as the
/// body (chunked when asked), and closes every connection after `requestsPerConnection` answers,
/// as an S3 server closing an idle keep-alive connection would.
final class LoopbackHTTPServer: @unchecked Sendable {
    let listenFD: Int32
    let port: Int
    let requestsPerConnection: Int
    let connectionsAccepted = Atomic<Int>(0)
    private var thread = pthread_t()

    /// Listens on 127.0.0.1, or on ::1 when `ipv6`.
    init(requestsPerConnection: Int, ipv6: Bool = false) {
        self.requestsPerConnection = requestsPerConnection
        let listenFD = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listenFD = listenFD
        var address = sockaddr_storage()
        var length = socklen_t(ipv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        withUnsafeMutableBytes(of: &address) { raw in
            if ipv6 {
                let v6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                v6.pointee.sin6_family = sa_family_t(AF_INET6)
                v6.pointee.sin6_addr = in6addr_loopback
            } else {
                let v4 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                v4.pointee.sin_family = sa_family_t(AF_INET)
                v4.pointee.sin_addr.s_addr = inet_addr("127.0.0.1")
            }
            let generic = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            precondition(bind(listenFD, generic, length) == 0 && listen(listenFD, 8) == 0)
            precondition(getsockname(listenFD, generic, &length) == 0)
        }
        // sin_port and sin6_port sit at the same offset.
        port = Int(UInt16(bigEndian: withUnsafeBytes(of: &address) { $0.load(fromByteOffset: 2, as: UInt16.self) }))
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let server = Unmanaged<LoopbackHTTPServer>.fromOpaque(raw!).takeRetainedValue()
            server.serve()
            return nil
        }, box)
    }

    /// Stops accepting (the serving thread ends at its next accept).
    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        pthread_join(thread, nil)
        close(listenFD)
    }

    private func serve() {
        while true {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { return }
            connectionsAccepted.add(1, ordering: .relaxed)
            var parser = HTTP1RequestParser(maxBodyBytes: 64 << 20)
            var answered = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            connection: while answered < requestsPerConnection {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { break }
                buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                while answered < requestsPerConnection, let request = try? parser.next() {
                    var reply = request.header("x-chunked") != nil
                        ? Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(String(request.target.utf8.count, radix: 16))\r\n\(request.target)\r\n0\r\n\r\n".utf8)
                        : HTTP1Response(status: 200, text: request.target).serialize(keepAlive: true)
                    if request.method == "HEAD" { reply = Array(HTTP1Response(status: 200, text: "").serialize(keepAlive: true)) }
                    guard reply.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == reply.count else { break connection }
                    answered += 1
                }
            }
            close(fd)
        }
    }
}

@Suite struct BlockingHTTPTransportTests {
    private func request(_ target: String, chunked: Bool = false) -> HTTP1ClientRequest {
        HTTP1ClientRequest(method: "GET", target: target, headers: [("Host", "127.0.0.1")] + (chunked ? [("X-Chunked", "1")] : []))
    }

    @Test func reusesTheConnectionAndReconnectsWhenTheServerClosedIt() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 3)
        defer { server.stop() }
        let transport = BlockingHTTPTransport(endpoint: S3Endpoint(host: "127.0.0.1", port: server.port, useTLS: false), tlsContext: nil)
        for i in 0..<7 {
            let response = try transport.roundTrip(request("/object/\(i)", chunked: i % 2 == 1))
            #expect(response.status == 200 && response.body == Array("/object/\(i)".utf8))
        }
        // 3 + 3 + 1 requests: the server closed twice, each time one new connection.
        #expect(transport.connectionsOpened == 3)
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 3)
    }

    @Test func refusedConnectionIsATransportError() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 1)
        let port = server.port
        server.stop()
        let transport = BlockingHTTPTransport(endpoint: S3Endpoint(host: "127.0.0.1", port: port, useTLS: false), tlsContext: nil)
        #expect(throws: StorageError.self) { try transport.roundTrip(request("/")) }
    }
}

@Suite struct BlockingHTTPTransportTimeoutTests {
    @Test func silentServerTimesOut() throws {
        let listener = SilentListener()
        defer { listener.close() }
        let endpoint = S3Endpoint(host: "127.0.0.1", port: listener.port, useTLS: false)
        let transport = BlockingHTTPTransport(endpoint: endpoint, tlsContext: nil, ioTimeoutMs: 200)
        #expect(throws: StorageError.transport("no answer within 200 ms")) {
            try transport.roundTrip(HTTP1ClientRequest(method: "GET", target: "/", headers: [("Host", "x")]))
        }
    }
}
