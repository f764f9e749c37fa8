import HTTP1
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client connection (POSIX socket, optional `TLSSession`) for tests and the
/// start-up bucket health check; the flush path gets a loop-driven transport. Keeps the
/// connection alive between requests and reconnects once when a reused connection turns out
/// to be closed by the server. Not Sendable: one caller at a time.
public final class BlockingHTTPTransport {
    public let endpoint: S3Endpoint
    let tlsContext: TLSClientContext?
    let ioTimeoutMs: Int
    let maxResponseBodyBytes: Int
    private var connection: Connection?
    /// How many TCP connections were opened (keep-alive reuse keeps this at 1).
    public private(set) var connectionsOpened = 0

    public init(endpoint: S3Endpoint, tlsContext: TLSClientContext?, ioTimeoutMs: Int = 10_000, maxResponseBodyBytes: Int = 256 << 20) {
        precondition(endpoint.useTLS == (tlsContext != nil), "TLS endpoint needs a TLS context and vice versa")
        self.endpoint = endpoint
        self.tlsContext = tlsContext
        self.ioTimeoutMs = ioTimeoutMs
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }

    deinit { close() }

    public func close() {
        connection?.close()
        connection = nil
    }

    /// Sends `request` and waits for its whole response.
    public func roundTrip(_ request: HTTP1ClientRequest) throws(StorageError) -> HTTP1ClientResponse {
        if let reused = connection {
            do {
                return try exchange(reused, request)
            } catch where reused.receivedNothing {
                // The server closed the idle connection before answering: send again on a new one
                // (every S3 request we make is idempotent).
                close()
            } catch {
                close()
                throw error
            }
        }
        let fresh = try Connection(endpoint: endpoint, tlsContext: tlsContext, ioTimeoutMs: ioTimeoutMs)
        connectionsOpened += 1
        connection = fresh
        do {
            return try exchange(fresh, request)
        } catch {
            close()
            throw error
        }
    }

    private func exchange(_ connection: Connection, _ request: HTTP1ClientRequest) throws(StorageError) -> HTTP1ClientResponse {
        connection.receivedNothing = true
        try connection.send(request.serializeHead())
        try connection.send(request.body)  // separately: the object is not copied behind the head
        var parser = HTTP1ResponseParser(maxBodyBytes: maxResponseBodyBytes)
        while true {
            let received = try connection.receive()
            do {
                if received.isEmpty {
                    guard let response = try parser.finish() else { throw StorageError.transport("connection closed before a response") }
                    self.close()
                    return response
                }
                connection.receivedNothing = false
                parser.append(received)
                if let response = try parser.next(requestMethod: request.method) {
                    if !response.keepAlive { self.close() }
                    return response
                }
            } catch let error as HTTP1ResponseParseError {
                throw .malformedResponse(error.reason)
            } catch let error as StorageError {
                throw error
            } catch {
                throw .transport("\(error)")
            }
        }
    }
}

/// One TCP connection, with TLS on top when configured.
private final class Connection {
    let fd: Int32
    let tls: TLSSession?
    var receivedNothing = true
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(endpoint: S3Endpoint, tlsContext: TLSClientContext?, ioTimeoutMs: Int) throws(StorageError) {
        fd = try Self.connect(host: endpoint.host, port: endpoint.port, timeoutMs: ioTimeoutMs)
        do {
            if let tlsContext {
                tls = try TLSSession(context: tlsContext, serverName: endpoint.host)
                try handshake()
            } else {
                tls = nil
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    func close() {
        if let tls {
            tls.close()
            try? sendRaw(tls.takeCiphertext())
        }
        Glibc.close(fd)
    }

    private func handshake() throws(StorageError) {
        guard let tls else { return }
        while true {
            let done = try tls.handshake()
            try sendRaw(tls.takeCiphertext())
            if done { return }
            let n = try receiveRaw()
            guard n > 0 else { throw .tls("connection closed during the handshake") }
            buffer.withUnsafeBytes { tls.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }

    func send(_ bytes: [UInt8]) throws(StorageError) {
        guard !bytes.isEmpty else { return }
        guard let tls else { return try sendRaw(bytes) }
        try bytes.withUnsafeBytes { raw in Result { () throws(StorageError) in try tls.writePlaintext(raw) } }.get()
        try sendRaw(tls.takeCiphertext())
    }

    /// Some plaintext, or empty at the end of the stream.
    func receive() throws(StorageError) -> [UInt8] {
        guard let tls else {
            let n = try receiveRaw()
            return Array(buffer[..<n])
        }
        var plaintext: [UInt8] = []
        while plaintext.isEmpty {
            if try tls.readPlaintext(into: &plaintext) > 0 { break }
            if tls.isClosedByPeer { return [] }
            try sendRaw(tls.takeCiphertext())  // renegotiation or key update replies
            let n = try receiveRaw()
            guard n > 0 else { return [] }
            buffer.withUnsafeBytes { tls.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
        return plaintext
    }

    private func sendRaw(_ bytes: [UInt8]) throws(StorageError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .transport("send: \(Self.errnoText(errno))")
            }
            offset += n
        }
    }

    private func receiveRaw() throws(StorageError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .transport("recv: \(Self.errnoText(errno))")
        }
    }

    private static func connect(host: String, port: Int, timeoutMs: Int) throws(StorageError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw .transport("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = errno; continue }
            var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            Glibc.close(fd)
        }
        throw .transport("cannot connect to \(host):\(port): \(errnoText(lastError))")
    }

    static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
