import CShims
import TLS
#if canImport(Glibc)
import Glibc
#endif

/// An in-memory OpenSSL server with a fresh self-signed Ed25519 certificate for `localhost` and
/// `127.0.0.1`: the client session is tested against it with bytes moved by hand, no sockets.
public final class InMemoryTLSServer {
    let key: OpaquePointer
    let certificate: OpaquePointer
    public let context: OpaquePointer
    public let certificatePEMPath: String

    public init(directory: String) throws {
        let keyContext = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil)
        defer { EVP_PKEY_CTX_free(keyContext) }
        var key: OpaquePointer?
        try required(EVP_PKEY_keygen_init(keyContext) == 1 && EVP_PKEY_keygen(keyContext, &key) == 1)
        self.key = try required(key)
        let x509 = try required(X509_new())
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
            let ext = try required(X509V3_EXT_conf_nid(nil, nil, nid, value))
            X509_add_ext(x509, ext, -1)
            X509_EXTENSION_free(ext)
        }
        try required(X509_sign(x509, key, nil) > 0)
        certificatePEMPath = directory + "/ca.pem"
        let file = try required(BIO_new_file(certificatePEMPath, "w"))
        PEM_write_bio_X509(file, x509)
        BIO_free(file)
        context = try required(SSL_CTX_new(TLS_server_method()))
        try required(SSL_CTX_use_certificate(context, x509) == 1 && SSL_CTX_use_PrivateKey(context, key) == 1)
    }

    deinit {
        SSL_CTX_free(context)
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// One accepted connection: server side of a memory-BIO pair.
    public final class Peer {
        public let ssl: OpaquePointer
        let incoming: OpaquePointer
        let outgoing: OpaquePointer

        public init(_ context: OpaquePointer) {
            ssl = SSL_new(context)
            incoming = BIO_new(BIO_s_mem())
            outgoing = BIO_new(BIO_s_mem())
            SSL_set_bio(ssl, incoming, outgoing)
            SSL_set_accept_state(ssl)
        }

        deinit { SSL_free(ssl) }

        public func receive(_ bytes: [UInt8]) {
            if !bytes.isEmpty { _ = bytes.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) } }
        }

        public func take() -> [UInt8] {
            let n = Int(BIO_ctrl_pending(outgoing))
            var out = [UInt8](repeating: 0, count: n)
            if n > 0 { _ = out.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32(n)) } }
            return out
        }

        public var serverName: String? { SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) } }
    }

    /// Runs the handshake to completion or to the client's error.
    public func connect(_ client: TLSSession) throws(TLSError) -> Peer {
        let peer = Peer(context)
        for _ in 0..<20 {
            let done = try client.handshake()
            peer.receive(client.takeCiphertext())
            _ = SSL_do_handshake(peer.ssl)
            let reply = peer.take()
            reply.withUnsafeBytes { client.receiveCiphertext($0) }
            if done && reply.isEmpty { return peer }
        }
        throw .failed("handshake did not finish")
    }
}


struct InMemoryTLSServerSetupFailed: Error {}

private func required(_ condition: Bool) throws { if !condition { throw InMemoryTLSServerSetupFailed() } }
private func required<T>(_ value: T?) throws -> T {
    guard let value else { throw InMemoryTLSServerSetupFailed() }
    return value
}
