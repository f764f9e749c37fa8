import TLS

/// TLS to every metastore node (`-metastore.grpc-client-config.tls-*`, dskit's `tls.ClientConfig`):
/// one context for every loop, offering ALPN `h2` (gRPC over TLS requires it).
public struct MetastoreTLS: Sendable {
    public let context: TLSClientContext
    /// `tls-server-name`: the name expected on every node's certificate (and sent as SNI);
    /// nil: the host of each configured address, as grpc-go takes it from the target.
    public let serverName: String?

    /// Reads the CA, certificate and key files now (start-up), so a bad one fails there.
    public init(options: TLSClientOptions, serverName: String?) throws(TLSError) {
        var options = options
        options.alpnProtocols = ["h2"]
        context = try TLSClientContext(options: options)
        self.serverName = serverName
    }
}

/// The TLS layer of one `NodeConnection`: a session made once TCP is up, ciphertext in and out,
/// plaintext for the HTTP/2 layer only after a handshake that verified the node and agreed on `h2`.
/// Loop-confined.
final class NodeTLS {
    private let configuration: MetastoreTLS
    private let serverName: String
    private var session: TLSSession?

    init(_ configuration: MetastoreTLS, host: String) {
        self.configuration = configuration
        serverName = configuration.serverName ?? host
    }

    /// Plaintext may be sealed.
    var isEstablished: Bool { session?.isHandshakeComplete == true }

    /// TCP is up: the first handshake flight, to send.
    func start() throws(TLSError) -> [UInt8] {
        let session = try TLSSession(context: configuration.context, serverName: serverName)
        self.session = session
        _ = try session.handshake()
        return session.takeCiphertext()
    }

    /// Ciphertext from the node: appends the plaintext it decrypts to (none while the handshake
    /// runs) and returns ciphertext to send (handshake flights, alerts). `closedByPeer` once the
    /// node sent close_notify.
    func receive(_ ciphertext: UnsafeRawBufferPointer, plaintext: inout [UInt8]) throws(TLSError) -> (send: [UInt8], closedByPeer: Bool) {
        guard let session else { preconditionFailure("TLS bytes before the connection opened") }
        session.receiveCiphertext(ciphertext)
        if !session.isHandshakeComplete {
            guard try session.handshake() else { return (session.takeCiphertext(), false) }
            // grpc-go's transport credentials refuse a server that did not agree to h2.
            guard session.negotiatedProtocol == "h2" else {
                throw .failed("the node did not agree to ALPN h2 (chose \(session.negotiatedProtocol ?? "none"))")
            }
        }
        try session.readPlaintext(into: &plaintext)
        return (session.takeCiphertext(), session.isClosedByPeer)
    }

    /// Encrypts `plaintext`; returns the ciphertext to send.
    func seal(_ plaintext: [UInt8]) throws(TLSError) -> [UInt8] {
        guard let session, session.isHandshakeComplete else { preconditionFailure("sealing before the TLS handshake completed") }
        try plaintext.withUnsafeBytes { raw in Result { () throws(TLSError) in try session.writePlaintext(raw) } }.get()
        return session.takeCiphertext()
    }

    /// What a failure of this layer says, for the calls it fails.
    func describe(_ error: TLSError) -> String { "metastore TLS with \(serverName): \(error)" }
}
