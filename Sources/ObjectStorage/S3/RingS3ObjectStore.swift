import CShims
import HTTP1
import Runtime
#if canImport(Glibc)
import Glibc
import TLS
#endif

/// `-storage.backend=s3` driven by a loop's io_uring `Ring`: every socket call of a request is a
/// ring operation (connect, send, recv, async-cancel, close) whose completion drives the
/// connection's `HTTPClientSession` (TLS through OpenSSL memory BIOs: ciphertext moves by ring
/// ops). Idle connections are kept for reuse (at most `idleConnectionsMax`); a reused connection
/// that fails before any byte of the answer (the server closed it while idle), or a connect with
/// no answer within the connect timeout (a black-holed address), is replaced and the request sent
/// once more. Each request has a deadline (`S3Configuration.ioTimeoutMs`, a loop timer, shared by
/// its second try); past it, and on `cancelPuts`, the request's ring operations are cancelled and
/// its socket closed by the ring.
///
/// A failed or cancelled request completes only once its socket is closed: when the completion
/// runs, no further byte of that attempt can reach the store. A success completes at once.
///
/// Confined to the ring's loop; completions run there too. The ring holds the store as its
/// completion handler, so make one per loop, at start-up. The endpoint's host is resolved here
/// (IPv4 and IPv6, getaddrinfo order); a failed connect moves the next attempt on to the next
/// address, and a list that looks stale is resolved again off the loop (`EndpointAddressList`).
public final class RingS3ObjectStore: ObjectStore, RingCompletionHandler {
    public let client: S3Client
    public let prefix: String
    let loop: EventLoop
    let ring: Ring
    private var ringClient: RingClient!
    let tlsContext: TLSClientContext?
    let now: () -> AmzDate
    let endpoints: EndpointAddressList
    /// Every connection whose socket is open, by serial (the high bits of its ring tags).
    private var connections: [UInt64: RingS3Connection] = [:]
    private var idle: [RingS3Connection] = []
    private var nextSerial: UInt64 = 1
    /// TCP connections opened so far.
    public private(set) var connectionsOpened = 0
    /// Ring completions this store handled, by operation: the socket traffic's own account.
    public private(set) var ringCompletions = RingS3Completions()
    static let idleConnectionsMax = 4

    public convenience init(loop: EventLoop, ring: Ring, configuration: S3Configuration, prefix: String = "",
                            now: @escaping () -> AmzDate = AmzDate.now) throws(StorageError) {
        try self.init(loop: loop, ring: ring, configuration: configuration, prefix: prefix, now: now,
                      resolver: EndpointAddress.resolve)
    }

    /// `resolver` replaces getaddrinfo (tests: a name whose addresses change).
    init(loop: EventLoop, ring: Ring, configuration: S3Configuration, prefix: String = "",
         now: @escaping () -> AmzDate = AmzDate.now, resolver: @escaping EndpointResolver) throws(StorageError) {
        client = try S3Client(configuration: configuration)
        self.prefix = prefix
        self.loop = loop
        self.ring = ring
        do {
            endpoints = try EndpointAddressList(host: client.endpoint.host, port: client.endpoint.port, resolver: resolver)
        } catch {
            throw .transport(error.description)
        }
        tlsContext = client.endpoint.useTLS ? try storageTLS { () throws(TLSError) in try TLSClientContext(verification: configuration.tlsVerification) } : nil
        self.now = now
        ringClient = ring.register(self)
    }

    /// Requests on open sockets (in flight or closing).
    public var requestsInFlight: Int { connections.values.count { $0.request != nil } }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        do throws(StorageError) {
            try ObjectPath.validate(path)
        } catch {
            return completion(.failure(error))
        }
        let http = client.putObject(key: ObjectPath.join(prefix: prefix, path), body: bytes, date: now())
        perform(RingS3Request(http, path: path) { result in
            completion(result.flatMap { response in Result { () throws(StorageError) in try S3Client.check(response) } })
        })
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        do throws(StorageError) {
            try ObjectPath.validate(path)
        } catch {
            return completion(.failure(error))
        }
        perform(RingS3Request(client.getObject(key: ObjectPath.join(prefix: prefix, path), date: now())) { result in
            completion(result.flatMap { response in
                Result { () throws(StorageError) in
                    try S3Client.check(response)
                    return response.body
                }
            })
        })
    }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        perform(RingS3Request(client.listObjectsV2(maxKeys: 1, date: now())) { result in
            completion(result.flatMap { response in Result { () throws(StorageError) in try S3Client.check(response) } })
        })
    }

    /// Cancels every attempt to put `path`: its ring operations are cancelled, its socket closed,
    /// and then its completion runs with `StorageError.cancelled` (the connection is not reused).
    public func cancelPuts(_ path: String) {
        for connection in connections.values where connection.request?.path == path {
            connection.request?.cancelled = true
            abort(connection, .cancelled)
        }
    }

    // MARK: Requests

    private func perform(_ request: RingS3Request) {
        let connection: RingS3Connection
        if let reused = idle.popLast() {
            connection = reused
            connection.reused = true
        } else {
            do throws(StorageError) {
                connection = try open()
            } catch {
                return request.completion(.failure(error))
            }
        }
        connection.request = request
        do throws(StorageError) {
            try connection.session.send(request.http)
        } catch {
            return abort(connection, error)
        }
        let timeoutMs = UInt64(client.configuration.ioTimeoutMs)
        let nowNs = EventLoop.monotonicNowNs
        let deadlineNs = request.deadlineNs ?? nowNs &+ timeoutMs * 1_000_000
        request.deadlineNs = deadlineNs
        let remainingNs = deadlineNs &- min(deadlineNs, nowNs)
        connection.deadline = loop.scheduleTimer(afterMs: (remainingNs + 999_999) / 1_000_000) { [self] _ in
            connection.deadline = nil
            connection.expired = true
            abort(connection, .transport("no answer within \(timeoutMs) ms"))
        }
        pump(connection)
    }

    private func open() throws(StorageError) -> RingS3Connection {
        let address = endpoints.next()
        let fd = cshim_tcp_socket(address.family)
        guard fd >= 0 else { throw .transport("socket: \(Errno(rawValue: -fd))") }
        let connection: RingS3Connection
        do throws(StorageError) {
            let tls = try tlsContext.map { (context) throws(StorageError) in
                try storageTLS { () throws(TLSError) in try TLSSession(context: context, serverName: client.endpoint.host) }
            }
            connection = RingS3Connection(serial: nextSerial, fd: fd, session: HTTPClientSession(tls: tls), address: address)
            try connection.session.start()
        } catch {
            Glibc.close(fd)
            throw error
        }
        do {
            try ring.connect(fd: fd, address: connection.address, length: address.length, client: ringClient,
                             tag: connection.tag(.connect))
        } catch {
            Glibc.close(fd)
            throw .transport("ring connect to \(address): \(error)")
        }
        connection.connecting = true
        connection.connectTimer = loop.scheduleTimer(afterMs: S3Configuration.connectTimeoutMs) { [self] _ in
            connection.connectTimer = nil
            connectTimedOut(connection)
        }
        nextSerial += 1
        connections[connection.serial] = connection
        connectionsOpened += 1
        return connection
    }

    /// A live peer answers a SYN within milliseconds, and the kernel resends an unanswered one only
    /// after a second: a connect still without an answer then (a vanished pod's address often
    /// drops SYNs silently) counts as failed, so the next connect takes the next address, and the
    /// request goes once more there (`closed`) instead of waiting out its deadline on this one.
    private func connectTimedOut(_ connection: RingS3Connection) {
        guard connection.connecting, !connection.closing else { return }
        connection.connectTimedOut = true
        endpoints.connectFailed(connection.endpoint)
        abort(connection, .transport("connect to \(connection.endpoint): no answer within \(S3Configuration.connectTimeoutMs) ms"))
    }

    private func cancelConnectTimer(_ connection: RingS3Connection) {
        if let timer = connection.connectTimer { loop.cancelTimer(timer) }
        connection.connectTimer = nil
    }

    /// Moves queued output to the socket and keeps a receive posted while a request is open.
    private func pump(_ connection: RingS3Connection) {
        guard connection.connected, !connection.closing else { return }
        connection.queued.append(contentsOf: connection.session.takeOutbound())
        do {
            if !connection.sending, connection.stageQueued() { try sendStaged(connection) }
            if connection.request != nil, !connection.receiving {
                try ring.recv(fd: connection.fd, into: connection.receiveBuffer, client: ringClient, tag: connection.tag(.recv))
                connection.receiving = true
            }
        } catch {
            abort(connection, .transport("ring prepare: \(error)"))
        }
    }

    private func sendStaged(_ connection: RingS3Connection) throws(Errno) {
        try ring.send(fd: connection.fd, bytes: connection.unsent, client: ringClient, tag: connection.tag(.send))
        connection.sending = true
    }

    private func succeed(_ connection: RingS3Connection, _ response: HTTP1ClientResponse) {
        guard let request = connection.request else { return }
        connection.request = nil
        connection.reused = false
        if let deadline = connection.deadline { loop.cancelTimer(deadline) }
        connection.deadline = nil
        if connection.isIdleReusable && idle.count < Self.idleConnectionsMax {
            idle.append(connection)
        } else {
            shutdown(connection)
        }
        request.completion(.success(response))
    }

    /// Fails the connection's request (once its socket is closed) and closes the connection.
    private func abort(_ connection: RingS3Connection, _ error: StorageError) {
        if connection.failure == nil { connection.failure = error }
        if let deadline = connection.deadline { loop.cancelTimer(deadline) }
        connection.deadline = nil
        shutdown(connection)
    }

    /// Cancels the connection's ring operations, then closes its socket through the ring.
    private func shutdown(_ connection: RingS3Connection) {
        guard !connection.closing else { return }
        connection.closing = true
        cancelConnectTimer(connection)
        idle.removeAll { $0 === connection }
        for operation in connection.operationsInFlight {
            do {
                try ring.cancel(target: connection.tag(operation), client: ringClient, tag: connection.tag(.cancel))
            } catch {
                // No room on the ring: a socket shutdown ends the pending operations as well.
                Glibc.shutdown(connection.fd, Int32(SHUT_RDWR))
            }
        }
        closeWhenQuiet(connection)
    }

    private func closeWhenQuiet(_ connection: RingS3Connection) {
        guard connection.closing, connection.operationsInFlight.isEmpty, !connection.closeSubmitted else { return }
        connection.closeSubmitted = true
        do {
            try ring.close(fd: connection.fd, client: ringClient, tag: connection.tag(.close))
        } catch {
            Glibc.close(connection.fd)
            closed(connection)
        }
    }

    /// The socket is closed: the request (if any) fails, or goes once more on a new connection
    /// (within its deadline) when a kept-alive one turned out to be closed by the server before
    /// answering, or when the connect got no answer within the connect timeout.
    private func closed(_ connection: RingS3Connection) {
        connections[connection.serial] = nil
        guard let request = connection.request else { return }
        connection.request = nil
        if request.cancelled { return request.completion(.failure(.cancelled)) }
        let error = connection.failure ?? .transport("connection closed")
        let stale = connection.reused && !connection.session.receivedResponseBytes
        if request.retryAllowed, !connection.expired, stale || connection.connectTimedOut {
            request.retryAllowed = false
            return perform(request)
        }
        request.completion(.failure(error))
    }

    // MARK: Completions

    public func ringCompleted(tag: UInt64, result: Int32) {
        guard let operation = RingS3Connection.Operation(rawValue: tag & RingS3Connection.operationMask) else { return }
        ringCompletions.count(operation)
        guard let connection = connections[tag >> RingS3Connection.operationBits] else { return }
        switch operation {
        case .connect:
            connection.connecting = false
            cancelConnectTimer(connection)
            if result < 0 {
                // Cut short by the deadline or `cancelPuts` before the connect timeout, a connect
                // says nothing about the address (a timed-out one was counted when its timer fired).
                if !connection.closing { endpoints.connectFailed(connection.endpoint) }
                abort(connection, .transport("connect to \(connection.endpoint): \(Errno(rawValue: -result))"))
            } else {
                connection.connected = true
                endpoints.connected()
            }
        case .send:
            connection.sending = false
            if result < 0 {
                abort(connection, .transport("send: \(Errno(rawValue: -result))"))
            } else {
                connection.sentStaged(Int(result))
                if !connection.closing, !connection.unsent.isEmpty {
                    do { try sendStaged(connection) } catch { abort(connection, .transport("ring prepare: \(error)")) }
                }
            }
        case .recv:
            connection.receiving = false
            if result < 0 {
                abort(connection, .transport("recv: \(Errno(rawValue: -result))"))
            } else if !connection.closing {
                received(connection, count: Int(result))
            }
        case .cancel:
            break
        case .close:
            return closed(connection)
        }
        if connection.closing { closeWhenQuiet(connection) } else { pump(connection) }
    }

    /// The loop exits with nothing in flight: only idle connections are left; close them.
    public func ringLoopExiting() {
        for connection in connections.values {
            Glibc.close(connection.fd)
            connection.request?.completion(.failure(.transport("event loop stopped")))
            connection.request = nil
        }
        connections.removeAll()
        idle.removeAll()
    }

    private func received(_ connection: RingS3Connection, count: Int) {
        do throws(StorageError) {
            let response: HTTP1ClientResponse?
            if count == 0 {
                response = try connection.session.receiveEOF()
                if response == nil { return abort(connection, .transport("connection closed before a response")) }
            } else {
                response = try connection.session.receive(UnsafeRawBufferPointer(rebasing: connection.receiveBuffer[..<count]))
            }
            if let response { succeed(connection, response) }
        } catch {
            abort(connection, error)
        }
    }
}

/// How many ring completions of each kind the store handled.
public struct RingS3Completions: Sendable, Equatable {
    public var connect = 0, send = 0, recv = 0, cancel = 0, close = 0

    mutating func count(_ operation: RingS3Connection.Operation) {
        switch operation {
        case .connect: connect += 1
        case .send: send += 1
        case .recv: recv += 1
        case .cancel: cancel += 1
        case .close: close += 1
        }
    }
}

/// One request: the HTTP message, the object path for puts (what `cancelPuts` matches), and
/// whether it may still go once more on a fresh connection.
final class RingS3Request {
    let http: HTTP1ClientRequest
    let path: String?
    let completion: (Result<HTTP1ClientResponse, StorageError>) -> Void
    var retryAllowed = true
    var cancelled = false
    /// Monotonic time the request's deadline passes, set when it is first sent.
    var deadlineNs: UInt64?

    init(_ http: HTTP1ClientRequest, path: String? = nil,
         completion: @escaping (Result<HTTP1ClientResponse, StorageError>) -> Void) {
        self.http = http
        self.path = path
        self.completion = completion
    }
}
