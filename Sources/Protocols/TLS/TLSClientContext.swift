import CShims

/// How a TLS client checks the server's certificate
/// (`-storage.s3.http.insecure-skip-verify` selects `.skip`).
public enum TLSVerification: Sendable, Equatable {
    /// The system's CA store (OpenSSL's default verify paths) and the host name.
    case systemCAs
    /// The CAs in one PEM file, and the host name.
    case caFile(String)
    /// No certificate or host name check (test stores with self-signed certificates).
    case skip
}

/// The lowest protocol version a client offers; never below 1.2.
public enum TLSVersion: Sendable, Equatable {
    case tls12
    case tls13
}

/// A PEM certificate chain and its PEM private key, presented when the server asks (mTLS).
public struct TLSClientCertificate: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Everything a client context is made from.
public struct TLSClientOptions: Sendable, Equatable {
    public var verification: TLSVerification
    public var clientCertificate: TLSClientCertificate?
    /// Offered by ALPN, in order (gRPC: `h2`); empty offers none.
    public var alpnProtocols: [String] = []
    public var minimumVersion: TLSVersion = .tls12
    /// TLS 1.2 suites by their IANA names (as Go's crypto/tls names them); empty: OpenSSL's
    /// defaults. `TLSCipherSuites.openSSLList` says what is accepted.
    public var cipherSuites: [String] = []

    public init(verification: TLSVerification) { self.verification = verification }
}

/// An OpenSSL `SSL_CTX` for clients: TLS 1.2 or later, CAs (and a client certificate) loaded once
/// at start-up and shared by every session (after set-up OpenSSL treats it as read-only, so
/// sharing across threads is safe).
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer
    public let verification: TLSVerification

    public convenience init(verification: TLSVerification) throws(TLSError) {
        try self.init(options: TLSClientOptions(verification: verification))
    }

    public init(options: TLSClientOptions) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .failed("SSL_CTX_new: \(TLSError.drainOpenSSLErrors())") }
        self.context = context
        self.verification = options.verification
        let version = options.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(version), nil)
        try loadVerification(options.verification)
        if let certificate = options.clientCertificate { try loadClientCertificate(certificate) }
        if let ciphers = try TLSCipherSuites.openSSLList(options.cipherSuites) {
            guard SSL_CTX_set_cipher_list(context, ciphers) == 1 else {
                throw .unsupported("no cipher suite of \(options.cipherSuites.joined(separator: ",")) is usable: \(TLSError.drainOpenSSLErrors())")
            }
        }
        if !options.alpnProtocols.isEmpty {
            let wire = try Self.alpnWire(options.alpnProtocols)
            // Returns 0 on success, unlike most of OpenSSL.
            guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else { throw .failed("cannot set ALPN protocols") }
        }
    }

    deinit { SSL_CTX_free(context) }

    private func loadVerification(_ verification: TLSVerification) throws(TLSError) {
        switch verification {
        case .systemCAs:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw .failed("loading system CAs: \(TLSError.drainOpenSSLErrors())") }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .caFile(let path):
            // Fails for a missing file and for one without a certificate.
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw .unusableFile(.caCertificates, path: path, reason: TLSError.drainOpenSSLErrors())
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .skip:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
    }

    private func loadClientCertificate(_ certificate: TLSClientCertificate) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(context, certificate.certificatePath) == 1 else {
            throw .unusableFile(.clientCertificate, path: certificate.certificatePath, reason: TLSError.drainOpenSSLErrors())
        }
        guard SSL_CTX_use_PrivateKey_file(context, certificate.keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw .unusableFile(.clientKey, path: certificate.keyPath, reason: TLSError.drainOpenSSLErrors())
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .unusableFile(.clientKey, path: certificate.keyPath,
                                reason: "it is not the key of \(certificate.certificatePath): \(TLSError.drainOpenSSLErrors())")
        }
    }

    /// ALPN's wire form (RFC 7301 §3.1): each name prefixed by its length, 1 to 255 bytes.
    static func alpnWire(_ protocols: [String]) throws(TLSError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            guard (1 ... 255).contains(name.utf8.count) else { throw .unsupported("ALPN protocol \"\(name)\" must be 1 to 255 bytes") }
            wire.append(UInt8(name.utf8.count))
            wire.append(contentsOf: name.utf8)
        }
        return wire
    }
}
