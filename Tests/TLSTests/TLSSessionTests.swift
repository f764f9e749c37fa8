import CShims
import TestSupport
import Testing
@testable import TLS

@Suite struct TLSSessionTests {
    private func withServer(_ body: (InMemoryTLSServer) throws -> Void) throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        try body(try InMemoryTLSServer(directory: scratch.path))
    }

    @Test func skipVerifyHandshakesSendsSNIAndMovesPlaintextBothWays() throws {
        try withServer { server in
            let client = try TLSSession(context: TLSClientContext(verification: .skip), serverName: "localhost")
            let peer = try server.connect(client)
            #expect(client.isHandshakeComplete && peer.serverName == "localhost")

            let request = Array("PUT /bucket/key HTTP/1.1\r\n\r\n".utf8) + testBytes(100_000, seed: 4)
            try request.withUnsafeBytes { try client.writePlaintext($0) }
            peer.receive(client.takeCiphertext())
            var received = [UInt8](repeating: 0, count: 200_000)
            var total = 0
            while true {
                let n = received.withUnsafeMutableBytes { SSL_read(peer.ssl, $0.baseAddress! + total, Int32($0.count - total)) }
                if n <= 0 { break }
                total += Int(n)
            }
            #expect(Array(received[..<total]) == request)

            let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
            _ = reply.withUnsafeBytes { SSL_write(peer.ssl, $0.baseAddress, Int32($0.count)) }
            var plaintext: [UInt8] = []
            #expect(try client.readPlaintext(into: &plaintext) == 0, "nothing before the ciphertext arrives")
            peer.take().withUnsafeBytes { client.receiveCiphertext($0) }
            try client.readPlaintext(into: &plaintext)
            #expect(plaintext == reply)

            _ = SSL_shutdown(peer.ssl)
            peer.take().withUnsafeBytes { client.receiveCiphertext($0) }
            try client.readPlaintext(into: &plaintext)
            #expect(client.isClosedByPeer)
        }
    }

    @Test func caFileVerifiesTheCertificateAndTheHostName() throws {
        try withServer { server in
            let context = try TLSClientContext(verification: .caFile(server.certificatePEMPath))
            let byName = try TLSSession(context: context, serverName: "localhost")
            #expect(try server.connect(byName).serverName == "localhost")
            let byIP = try TLSSession(context: context, serverName: "127.0.0.1")
            #expect(try server.connect(byIP).serverName == nil, "no SNI for an IP literal")
            let wrongName = try TLSSession(context: context, serverName: "s3.example.com")
            #expect(throws: TLSError.self) { _ = try server.connect(wrongName) }
        }
    }

    @Test func systemCAsRefuseASelfSignedCertificate() throws {
        try withServer { server in
            let client = try TLSSession(context: TLSClientContext(verification: .systemCAs), serverName: "localhost")
            do throws(TLSError) {
                _ = try server.connect(client)
                Issue.record("handshake with an untrusted certificate succeeded")
            } catch {
                if case .failed(let message) = error {
                    #expect(message.contains("certificate"))
                } else {
                    Issue.record("unexpected \(error)")
                }
            }
        }
    }

    @Test func missingCAFileNamesTheFile() {
        #expect {
            try TLSClientContext(verification: .caFile("/nonexistent/ca.pem"))
        } throws: { error in
            guard case .unusableFile(.caCertificates, "/nonexistent/ca.pem", _) = error as? TLSError else { return false }
            return true
        }
    }
}

@Suite struct TLSClientOptionsTests {
    @Test func cipherSuitesByGoNamesBecomeOpenSSLNames() throws {
        #expect(try TLSCipherSuites.openSSLList([]) == nil)
        #expect(try TLSCipherSuites.openSSLList(["TLS_AES_128_GCM_SHA256"]) == nil, "TLS 1.3 suites are not configurable, as in Go")
        #expect(try TLSCipherSuites.openSSLList(["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
                                                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"])
                == "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305")
        #expect(throws: TLSError.unsupported("unsupported cipher suite: \"ECDHE-RSA-AES128-GCM-SHA256\" (not offered by this writer's OpenSSL)")) {
            try TLSCipherSuites.openSSLList(["ECDHE-RSA-AES128-GCM-SHA256"])
        }
    }

    @Test func alpnWireFormPrefixesEachNameWithItsLength() throws {
        #expect(try TLSClientContext.alpnWire(["h2", "http/1.1"]) == [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8))
        #expect(throws: TLSError.self) { try TLSClientContext.alpnWire([""]) }
    }
}
