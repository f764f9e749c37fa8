import CShims
import ObjectStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An in-memory OpenSSL server with a fresh self-signed Ed25519 certificate for `localhost` and
/// `127.0.0.1`: the client session is tested against it with bytes moved by hand, no sockets.
final class InMemoryTLSServer {
    let key: OpaquePointer
    let certificate: OpaquePointer
    let context: OpaquePointer
    let certificatePEMPath: String

    init(directory: String) throws {
        let keyContext = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil)
        defer { EVP_PKEY_CTX_free(keyContext) }
        var key: OpaquePointer?
        try #require(EVP_PKEY_keygen_init(keyContext) == 1 && EVP_PKEY_keygen(keyContext, &key) == 1)
        self.key = try #require(key)
        let x509 = try #require(X509_new())
        certificate = x509
        X509_set_version(x509, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(x509), 1)
        X509_gmtime_adj(X509_getm_notBefore(x509), -60)
        X509_gmtime_adj(X509_getm_notAfter(x509), 3600)
        X509_set_pubkey(x509, key)
        let name = X509_get_subject_name(x509)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, "localhost", -1, -1, 0)
        X509_set_issuer_name(x509, name)
        for (nid, value) in [(NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"), (NID_basic_constraints, "critical,CA:TRUE")] {
            let ext = try #require(X509V3_EXT_conf_nid(nil, nil, nid, value))
            X509_add_ext(x509, ext, -1)
            X509_EXTENSION_free(ext)
        }
        try #require(X509_sign(x509, key, nil) > 0)
        certificatePEMPath = directory + "/ca.pem"
        let file = try #require(BIO_new_file(certificatePEMPath, "w"))
        PEM_write_bio_X509(file, x509)
        BIO_free(file)
        context = try #require(SSL_CTX_new(TLS_server_method()))
        try #require(SSL_CTX_use_certificate(context, x509) == 1 && SSL_CTX_use_PrivateKey(context, key) == 1)
    }

    deinit {
        SSL_CTX_free(context)
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// One accepted connection: server side of a memory-BIO pair.
    final class Peer {
        let ssl: OpaquePointer
        let incoming: OpaquePointer
        let outgoing: OpaquePointer

        init(_ context: OpaquePointer) {
            ssl = SSL_new(context)
            incoming = BIO_new(BIO_s_mem())
            outgoing = BIO_new(BIO_s_mem())
            SSL_set_bio(ssl, incoming, outgoing)
            SSL_set_accept_state(ssl)
        }

        deinit { SSL_free(ssl) }

        func receive(_ bytes: [UInt8]) {
            if !bytes.isEmpty { _ = bytes.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) } }
        }

        func take() -> [UInt8] {
            let n = Int(BIO_ctrl_pending(outgoing))
            var out = [UInt8](repeating: 0, count: n)
            if n > 0 { _ = out.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32(n)) } }
            return out
        }

        var serverName: String? { SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) } }
    }

    /// Runs the handshake to completion or to the client's error.
    func connect(_ client: TLSSession) throws(StorageError) -> Peer {
        let peer = Peer(context)
        for _ in 0..<20 {
            let done = try client.handshake()
            peer.receive(client.takeCiphertext())
            _ = SSL_do_handshake(peer.ssl)
            let reply = peer.take()
            reply.withUnsafeBytes { client.receiveCiphertext($0) }
            if done && reply.isEmpty { return peer }
        }
        throw .tls("handshake did not finish")
    }
}

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
            #expect(throws: StorageError.self) { _ = try server.connect(wrongName) }
        }
    }

    @Test func systemCAsRefuseASelfSignedCertificate() throws {
        try withServer { server in
            let client = try TLSSession(context: TLSClientContext(verification: .systemCAs), serverName: "localhost")
            do throws(StorageError) {
                _ = try server.connect(client)
                Issue.record("handshake with an untrusted certificate succeeded")
            } catch {
                if case .tls(let message) = error {
                    #expect(message.contains("certificate"))
                } else {
                    Issue.record("unexpected \(error)")
                }
            }
        }
    }

    @Test func missingCAFileIsAConfigurationError() {
        #expect(throws: StorageError.self) { try TLSClientContext(verification: .caFile("/nonexistent/ca.pem")) }
    }
}
