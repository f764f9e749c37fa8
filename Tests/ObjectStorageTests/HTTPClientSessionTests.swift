import CShims
import HTTP1
import ObjectStorage
import TLS
import TestSupport
import Testing

/// The sans-I/O connection the event loop will drive: bytes in, bytes out, no socket.
@Suite struct HTTPClientSessionTests {
    let put = HTTP1ClientRequest(method: "PUT", target: "/b/k", headers: [("Host", "h")], body: testBytes(1000, seed: 7))

    @Test func plainRequestGoesOutAsHeadThenUntouchedBodyAndTheResponseComesBack() throws {
        let session = HTTPClientSession(tls: nil)
        try session.start()
        try session.send(put)
        let out = session.takeOutbound()
        #expect(out == [put.serializeHead(), put.body])
        #expect(session.takeOutbound().isEmpty)
        let reply = Array("HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(try reply.prefix(10).withUnsafeBytes { try session.receive($0) } == nil)
        #expect(session.receivedResponseBytes && session.awaitingResponse)
        let response = try #require(try reply.dropFirst(10).withUnsafeBytes { try session.receive($0) })
        #expect(response.status == 200 && response.header("etag") == "\"e\"")
        #expect(session.isReusable && !session.awaitingResponse)
    }

    @Test func endOfStreamBeforeTheResponseIsATransportError() throws {
        let session = HTTPClientSession(tls: nil)
        try session.send(put)
        _ = session.takeOutbound()
        #expect(throws: StorageError.transport("connection closed before a response")) { try session.receiveEOF() }
        #expect(!session.isReusable && !session.receivedResponseBytes)
    }

    @Test func unsolicitedBytesAreRejected() throws {
        let session = HTTPClientSession(tls: nil)
        #expect(throws: StorageError.self) { try Array("HTTP/1.1 200 OK\r\n\r\n".utf8).withUnsafeBytes { try session.receive($0) } }
        #expect(!session.isReusable)
    }

    @Test func tlsRequestIsHeldUntilTheHandshakeCompletes() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let server = try InMemoryTLSServer(directory: scratch.path)
        let peer = InMemoryTLSServer.Peer(server.context)
        let session = HTTPClientSession(tls: try TLSSession(context: TLSClientContext(verification: .caFile(server.certificatePEMPath)),
                                                            serverName: "localhost"))
        try session.start()
        try session.send(put)  // queued before the handshake finished
        var response: HTTP1ClientResponse?
        var serverReceived: [UInt8] = []
        for _ in 0..<10 where response == nil {
            for bytes in session.takeOutbound() { peer.receive(bytes) }
            _ = SSL_do_handshake(peer.ssl)
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { SSL_read(peer.ssl, $0.baseAddress, Int32($0.count)) }
                if n <= 0 { break }
                serverReceived += chunk[..<Int(n)]
            }
            if serverReceived.count == put.serialize().count {
                let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
                _ = reply.withUnsafeBytes { SSL_write(peer.ssl, $0.baseAddress, Int32($0.count)) }
            }
            response = try peer.take().withUnsafeBytes { try session.receive($0) }
        }
        #expect(serverReceived == put.serialize())
        #expect(response?.body == Array("ok".utf8))
    }
}
