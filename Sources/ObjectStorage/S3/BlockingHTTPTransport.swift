import HTTP1
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
import TLS
#endif

/// A blocking HTTP/1.1 client connection (POSIX socket, optional `TLSSession`) for the start-up
/// bucket health check, loops without io_uring, and tests; the flush path uses `RingS3ObjectStore`. Keeps the
/// connection alive between requests and reconnects once when a reused connection turns out
/// to be closed by the server. The endpoint's name is resolved for every new connection (this
/// transport blocks anyway), so changed addresses are picked up at the next connect; each address
/// gets `S3Configuration.connectTimeoutMs` to answer before the next is tried. `ioTimeoutMs`
/// bounds each read and write; `requestTimeoutMs`, when set, the whole request as well (a
/// server that drips its answer a byte at a time never lets one read wait that long). Not
/// Sendable: one caller at a time.
public final class BlockingHTTPTransport {
    public let endpoint: S3Endpoint
    let tlsContext: TLSClientContext?
    let ioTimeoutMs: Int
    var requestTimeoutMs: Int?
    let maxResponseBodyBytes: Int
    let resolver: EndpointResolver
    private var connection: Connection?
    /// The socket requests use now (-1: none) and whether `interrupt()` ended the request in
    /// flight; shared with the thread that interrupts.
    private let interruption = Mutex<(fd: Int32, interrupted: Bool)>((-1, false))
    /// How many TCP connections were opened (keep-alive reuse keeps this at 1).
    public private(set) var connectionsOpened = 0

    public convenience init(endpoint: S3Endpoint, tlsContext: TLSClientContext?, ioTimeoutMs: Int = 10_000,
                            requestTimeoutMs: Int? = nil, maxResponseBodyBytes: Int = 256 << 20) {
        self.init(endpoint: endpoint, tlsContext: tlsContext, ioTimeoutMs: ioTimeoutMs, requestTimeoutMs: requestTimeoutMs,
                  maxResponseBodyBytes: maxResponseBodyBytes, resolver: EndpointAddress.resolve)
    }

    /// `resolver` replaces getaddrinfo (tests: a name whose addresses change).
    init(endpoint: S3Endpoint, tlsContext: TLSClientContext?, ioTimeoutMs: Int = 10_000, requestTimeoutMs: Int? = nil,
         maxResponseBodyBytes: Int = 256 << 20, resolver: @escaping EndpointResolver) {
        precondition(endpoint.useTLS == (tlsContext != nil), "TLS endpoint needs a TLS context and vice versa")
        self.endpoint = endpoint
        self.tlsContext = tlsContext
        self.ioTimeoutMs = ioTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs
        self.maxResponseBodyBytes = maxResponseBodyBytes
        self.resolver = resolver
    }

    deinit { close() }

    public func close() {
        guard let connection else { return }
        interruption.withLock { $0.fd = -1 }  // before the descriptor can be reused
        connection.close()
        self.connection = nil
    }

    /// Ends the request in flight from another thread: its socket is shut down, so the blocking
    /// send or receive returns at once, and the request fails `cancelled` without a second try;
    /// until `clearInterruption()`, so do the requests after it. For a store driven from worker
    /// threads (`OffloadedObjectStore`), whose puts `cancelPuts` could otherwise not end.
    public func interrupt() {
        interruption.withLock { state in
            state.interrupted = true
            if state.fd >= 0 { shutdown(state.fd, Int32(SHUT_RDWR)) }
        }
    }

    public func clearInterruption() {
        interruption.withLock { $0.interrupted = false }
    }

    private var interrupted: Bool { interruption.withLock { $0.interrupted } }

    /// Sends `request` and waits for its whole response.
    public func roundTrip(_ request: HTTP1ClientRequest) throws(StorageError) -> HTTP1ClientResponse {
        guard !interrupted else { throw .cancelled }
        let deadline = requestTimeoutMs.map { RequestDeadline(timeoutMs: $0) }
        if let reused = connection {
            do {
                return try exchange(reused, request, deadline)
            } catch where interrupted {
                close()
                throw .cancelled
            } catch where !reused.session.receivedResponseBytes {
                // The server closed the idle connection before answering: send again on a new one
                // (every S3 request we make is idempotent).
                close()
            } catch {
                close()
                throw error
            }
        }
        let addresses: [EndpointAddress]
        do {
            addresses = try resolver(endpoint.host, endpoint.port)
        } catch {
            throw .transport(error.description)
        }
        let fresh = try Connection(endpoint: endpoint, addresses: addresses, tlsContext: tlsContext, ioTimeoutMs: ioTimeoutMs, deadline: deadline,
                                   connectTimeoutMs: min(Int(S3Configuration.connectTimeoutMs), ioTimeoutMs), maxResponseBodyBytes: maxResponseBodyBytes)
        connectionsOpened += 1
        connection = fresh
        let interruptedAlready = interruption.withLock { state in
            state.fd = fresh.fd
            return state.interrupted
        }
        do throws(StorageError) {
            guard !interruptedAlready else { throw .cancelled }
            return try exchange(fresh, request, deadline)
        } catch {
            close()
            throw interrupted ? .cancelled : error
        }
    }

    private func exchange(_ connection: Connection, _ request: HTTP1ClientRequest,
                          _ deadline: RequestDeadline?) throws(StorageError) -> HTTP1ClientResponse {
        connection.deadline = deadline
        try connection.session.send(request)
        try connection.flush()
        while true {
            let response = try connection.receiveOnce()
            try connection.flush()
            if let response {
                if !connection.session.isReusable { close() }
                return response
            }
        }
    }
}

/// `BlockingHTTPTransport.requestTimeoutMs` from the start of one request.
struct RequestDeadline {
    let timeoutMs: Int
    let deadlineNs: UInt64

    init(timeoutMs: Int) {
        self.timeoutMs = timeoutMs
        deadlineNs = EventLoop.monotonicNowNs &+ UInt64(max(0, timeoutMs)) &* 1_000_000
    }

    /// What is left of it, rounded up to a whole millisecond (so never 0, which a socket
    /// timeout reads as none); past it, the request's error.
    func leftMs() throws(StorageError) -> Int {
        let nowNs = EventLoop.monotonicNowNs
        guard nowNs < deadlineNs else { throw .transport("no whole answer within \(timeoutMs) ms") }
        return Int((deadlineNs - nowNs + 999_999) / 1_000_000)
    }
}

/// One TCP connection driving an `HTTPClientSession` with blocking calls.
private final class Connection {
    let fd: Int32
    let session: HTTPClientSession
    let ioTimeoutMs: Int
    /// The current request's, if any: each read and write then blocks at most until it.
    var deadline: RequestDeadline?
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(endpoint: S3Endpoint, addresses: [EndpointAddress], tlsContext: TLSClientContext?, ioTimeoutMs: Int,
         deadline: RequestDeadline?, connectTimeoutMs: Int, maxResponseBodyBytes: Int) throws(StorageError) {
        fd = try Self.connect(addresses, connectTimeoutMs: connectTimeoutMs, ioTimeoutMs: ioTimeoutMs, deadline: deadline,
                              endpoint: "\(endpoint.host):\(endpoint.port)")
        self.ioTimeoutMs = ioTimeoutMs
        self.deadline = deadline
        do {
            let tls = try tlsContext.map { (context) throws(StorageError) in try storageTLS { () throws(TLSError) in try TLSSession(context: context, serverName: endpoint.host) } }
            session = HTTPClientSession(tls: tls, maxResponseBodyBytes: maxResponseBodyBytes)
            try session.start()
            try flush()
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    func close() {
        session.close()
        try? flush()
        Glibc.close(fd)
    }

    func flush() throws(StorageError) {
        for bytes in session.takeOutbound() { try sendRaw(bytes) }
    }

    /// One read from the socket handed to the session; the response once complete.
    func receiveOnce() throws(StorageError) -> HTTP1ClientResponse? {
        let n = try receiveRaw()
        guard n > 0 else {
            guard let response = try session.receiveEOF() else { throw .transport("connection closed before a response") }
            return response
        }
        return try buffer.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try session.receive(UnsafeRawBufferPointer(rebasing: raw[..<n])) }
        }.get()
    }

    private func sendRaw(_ bytes: [UInt8]) throws(StorageError) {
        var offset = 0
        while offset < bytes.count {
            try boundNextCall(SO_SNDTIMEO)
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    _ = try deadline?.leftMs()  // the deadline's error, if that is what ended the wait
                    throw .transport("send stalled for \(ioTimeoutMs) ms")
                }
                throw .transport("send: \(Self.errnoText(errno))")
            }
            offset += n
        }
    }

    private func receiveRaw() throws(StorageError) -> Int {
        while true {
            try boundNextCall(SO_RCVTIMEO)
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                _ = try deadline?.leftMs()
                throw .transport("no answer within \(ioTimeoutMs) ms")
            }
            throw .transport("recv: \(Self.errnoText(errno))")
        }
    }

    /// With a deadline, the next send or receive (`option`) blocks at most until it; past it,
    /// the request fails.
    private func boundNextCall(_ option: Int32) throws(StorageError) {
        guard let deadline else { return }
        Self.setTimeout(fd, option, ms: min(ioTimeoutMs, try deadline.leftMs()))
    }

    /// The first of `addresses` (in order) that accepts a connection within `connectTimeoutMs`.
    private static func connect(_ addresses: [EndpointAddress], connectTimeoutMs: Int, ioTimeoutMs: Int,
                                deadline: RequestDeadline?, endpoint: String) throws(StorageError) -> Int32 {
        var lastError = "no address"
        for address in addresses {
            let timeoutMs = min(connectTimeoutMs, try deadline?.leftMs() ?? .max)
            let socket: Socket
            do {
                socket = try Socket.connect(to: address, timeoutMs: timeoutMs)
            } catch {
                lastError = error.rawValue == ETIMEDOUT ? "\(address): no answer within \(timeoutMs) ms"
                                                        : "\(address): \(errnoText(error.rawValue))"
                continue
            }
            let fd = socket.fileDescriptor
            // Blocking from here: the send and receive timeouts bound each call.
            _ = try? socket.setNonBlocking(false)
            setTimeout(fd, SO_RCVTIMEO, ms: ioTimeoutMs)
            setTimeout(fd, SO_SNDTIMEO, ms: ioTimeoutMs)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return fd
        }
        throw .transport("cannot connect to \(endpoint): \(lastError)")
    }

    private static func setTimeout(_ fd: Int32, _ option: Int32, ms: Int) {
        var timeout = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
