import HTTP1
import TLS

/// One HTTP/1.1 client connection as a sans-I/O state machine: optional TLS, the request writer
/// and the bounded response parser, with no socket inside. The owner (`RingS3ObjectStore` through
/// ring operations, or `BlockingHTTPTransport`) writes `takeOutbound()` to the socket after every
/// call, feeds what it reads to `receive`, and reports the end of the stream with `receiveEOF`.
/// One request at a time.
///
/// Not Sendable: belongs to the connection's thread.
public final class HTTPClientSession {
    private let tls: TLSSession?
    private var parser: HTTP1ResponseParser
    private var outbound: [[UInt8]] = []
    /// Plaintext queued while the TLS handshake is still running.
    private var pendingPlaintext: [[UInt8]] = []
    private var requestMethod: String?
    /// False once the server asked to close or the stream failed.
    public private(set) var isReusable = true
    /// Whether any byte of the current response arrived (a reused connection that fails before
    /// that was closed by the server while idle, so the request can go again on a new one).
    public private(set) var receivedResponseBytes = false

    public init(tls: TLSSession?, maxResponseBodyBytes: Int = 256 << 20) {
        self.tls = tls
        parser = HTTP1ResponseParser(maxBodyBytes: maxResponseBodyBytes)
    }

    /// Starts the TLS handshake (a no-op without TLS).
    public func start() throws(StorageError) {
        try advanceHandshake()
    }

    public var awaitingResponse: Bool { requestMethod != nil }

    /// Queues `request`; its bytes come out of `takeOutbound()` (after the handshake, with TLS).
    public func send(_ request: HTTP1ClientRequest) throws(StorageError) {
        precondition(requestMethod == nil, "one request at a time on an HTTP/1.1 client session")
        precondition(isReusable, "request on a session that must be closed")
        requestMethod = request.method
        receivedResponseBytes = false
        try queuePlaintext(request.serializeHead())
        if !request.body.isEmpty { try queuePlaintext(request.body) }
    }

    /// Bytes to write to the socket, in order; the body of a plain-HTTP request is passed on as is.
    public func takeOutbound() -> [[UInt8]] {
        if let tls {
            let ciphertext = tls.takeCiphertext()
            if !ciphertext.isEmpty { outbound.append(ciphertext) }
        }
        defer { outbound.removeAll() }
        return outbound
    }

    /// Bytes read from the socket; returns the response once it is complete.
    public func receive(_ bytes: UnsafeRawBufferPointer) throws(StorageError) -> HTTP1ClientResponse? {
        guard let tls else { return try parse(bytes) }
        tls.receiveCiphertext(bytes)
        if !tls.isHandshakeComplete {
            try advanceHandshake()
            guard tls.isHandshakeComplete else { return nil }
        }
        var plaintext: [UInt8] = []
        try storageTLS { () throws(TLSError) in try tls.readPlaintext(into: &plaintext) }
        if tls.isClosedByPeer { isReusable = false }
        return try plaintext.withUnsafeBytes { raw in Result { () throws(StorageError) in try parse(raw) } }.get()
    }

    /// The peer closed the stream: completes a body delimited by the close, else fails if a
    /// response was awaited.
    public func receiveEOF() throws(StorageError) -> HTTP1ClientResponse? {
        isReusable = false
        guard requestMethod != nil else { return nil }
        do {
            guard let response = try parser.finish() else { throw StorageError.transport("connection closed before a response") }
            requestMethod = nil
            return response
        } catch let error as HTTP1ResponseParseError {
            throw .malformedResponse(error.reason)
        } catch let error as StorageError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Queues a TLS close_notify (send `takeOutbound()` before closing the socket).
    public func close() {
        isReusable = false
        tls?.close()
    }

    private func parse(_ bytes: UnsafeRawBufferPointer) throws(StorageError) -> HTTP1ClientResponse? {
        guard !bytes.isEmpty else { return nil }
        guard let method = requestMethod else {
            isReusable = false
            throw .malformedResponse("bytes received with no request outstanding")
        }
        receivedResponseBytes = true
        parser.append(bytes)
        let response: HTTP1ClientResponse?
        do {
            response = try parser.next(requestMethod: method)
        } catch {
            isReusable = false
            throw .malformedResponse(error.reason)
        }
        guard let response else { return nil }
        requestMethod = nil
        if !response.keepAlive { isReusable = false }
        return response
    }

    private func queuePlaintext(_ bytes: [UInt8]) throws(StorageError) {
        guard let tls else { return outbound.append(bytes) }
        guard tls.isHandshakeComplete else { return pendingPlaintext.append(bytes) }
        try bytes.withUnsafeBytes { raw in Result { () throws(StorageError) in try storageTLS { () throws(TLSError) in try tls.writePlaintext(raw) } } }.get()
    }

    private func advanceHandshake() throws(StorageError) {
        guard let tls, !tls.isHandshakeComplete else { return }
        do {
            guard try storageTLS({ () throws(TLSError) in try tls.handshake() }) else { return }
        } catch {
            isReusable = false
            throw error
        }
        let queued = pendingPlaintext
        pendingPlaintext.removeAll()
        for bytes in queued { try queuePlaintext(bytes) }
    }
}
