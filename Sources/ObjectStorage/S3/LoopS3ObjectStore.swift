import HTTP1
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `-storage.backend=s3` driven by an event loop: every request runs on non-blocking `Runtime`
/// connections carrying an `HTTPClientSession` (TLS when configured). Idle connections are kept
/// for reuse; a reused connection that fails before any byte of the answer (the server closed it
/// while idle) is replaced and the request sent once more. Each request has a deadline
/// (`S3Configuration.ioTimeoutMs`); past it the connection is closed and the request fails.
///
/// Confined to its loop: call it on that loop's thread; completions run there too. The endpoint's
/// host is resolved once, at construction, to an IPv4 address.
public final class LoopS3ObjectStore: ObjectStore {
    public let client: S3Client
    public let prefix: String
    let loop: EventLoop
    let address: String
    let tlsContext: TLSClientContext?
    let now: () -> AmzDate
    private var idle: [LoopS3Connection] = []
    /// TCP connections opened so far.
    public private(set) var connectionsOpened = 0
    static let idleConnectionsMax = 4

    public init(loop: EventLoop, configuration: S3Configuration, prefix: String = "",
                now: @escaping () -> AmzDate = AmzDate.now) throws(StorageError) {
        client = try S3Client(configuration: configuration)
        self.prefix = prefix
        self.loop = loop
        address = try Self.resolveIPv4(client.endpoint.host)
        tlsContext = client.endpoint.useTLS ? try TLSClientContext(verification: configuration.tlsVerification) : nil
        self.now = now
    }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        do throws(StorageError) {
            try ObjectPath.validate(path)
        } catch {
            return completion(.failure(error))
        }
        perform(client.putObject(key: ObjectPath.join(prefix: prefix, path), body: bytes, date: now())) { result in
            completion(result.flatMap { response in Result { () throws(StorageError) in try S3Client.check(response) } })
        }
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        do throws(StorageError) {
            try ObjectPath.validate(path)
        } catch {
            return completion(.failure(error))
        }
        perform(client.getObject(key: ObjectPath.join(prefix: prefix, path), date: now())) { result in
            completion(result.flatMap { response in
                Result { () throws(StorageError) in
                    try S3Client.check(response)
                    return response.body
                }
            })
        }
    }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        perform(client.listObjectsV2(maxKeys: 1, date: now())) { result in
            completion(result.flatMap { response in Result { () throws(StorageError) in try S3Client.check(response) } })
        }
    }

    /// Sends `request` on an idle connection or a new one; `completion` gets the raw response.
    func perform(_ request: HTTP1ClientRequest, retryAllowed: Bool = true,
                 completion: @escaping (Result<HTTP1ClientResponse, StorageError>) -> Void) {
        let reused = idle.popLast()
        let connection: LoopS3Connection
        if let reused {
            connection = reused
        } else {
            do throws(StorageError) {
                connection = try open()
            } catch {
                return completion(.failure(error))
            }
        }
        connection.start(request, timeoutMs: UInt64(client.configuration.ioTimeoutMs)) { [self] outcome, reusable in
            switch outcome {
            case .success:
                if reusable, idle.count < Self.idleConnectionsMax { idle.append(connection) } else { connection.close() }
                completion(outcome)
            case .failure where reused != nil && retryAllowed && !connection.session.receivedResponseBytes:
                connection.close()
                perform(request, retryAllowed: false, completion: completion)
            case .failure:
                connection.close()
                completion(outcome)
            }
        }
    }

    func forget(_ connection: LoopS3Connection) {
        idle.removeAll { $0 === connection }
    }

    private func open() throws(StorageError) -> LoopS3Connection {
        let tls = try tlsContext.map { (context) throws(StorageError) in try TLSSession(context: context, serverName: client.endpoint.host) }
        let connection = LoopS3Connection(store: self, session: HTTPClientSession(tls: tls))
        try connection.session.start()
        do {
            connection.id = try loop.connect(ipv4: address, port: UInt16(client.endpoint.port), handler: connection)
        } catch {
            throw .transport("connect to \(address):\(client.endpoint.port): \(error)")
        }
        connectionsOpened += 1
        connection.flush()
        return connection
    }

    private static func resolveIPv4(_ host: String) throws(StorageError) -> String {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else { throw .transport("cannot resolve \(host) to IPv4: \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(list) }
        var text = [UInt8](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var address = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// One loop connection: the session, the request in flight and its deadline.
final class LoopS3Connection: ConnectionHandler {
    weak var store: LoopS3ObjectStore?
    let loop: EventLoop
    let session: HTTPClientSession
    var id: ConnectionID?
    private var completion: ((Result<HTTP1ClientResponse, StorageError>, Bool) -> Void)?
    private var deadline: TimerID?
    private var closed = false

    init(store: LoopS3ObjectStore, session: HTTPClientSession) {
        self.store = store
        loop = store.loop
        self.session = session
    }

    func start(_ request: HTTP1ClientRequest, timeoutMs: UInt64,
               completion: @escaping (Result<HTTP1ClientResponse, StorageError>, Bool) -> Void) {
        precondition(self.completion == nil, "one request at a time per connection")
        self.completion = completion
        guard !closed else { return finish(.failure(.transport("connection closed"))) }
        deadline = loop.scheduleTimer(afterMs: timeoutMs) { [weak self] _ in
            self?.deadline = nil
            self?.finish(.failure(.transport("no answer within \(timeoutMs) ms")))
        }
        do throws(StorageError) {
            try session.send(request)
        } catch {
            return finish(.failure(error))
        }
        flush()
    }

    func flush() {
        guard let id, let connection = loop.connection(id) else { return }
        for bytes in session.takeOutbound() { bytes.withUnsafeBytes { connection.write($0) } }
    }

    func close() {
        guard !closed else { return }
        closed = true
        session.close()
        flush()
        if let id { loop.connection(id)?.close() }
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        do throws(StorageError) {
            let response = try session.receive(bytes)
            flush()
            if let response { finish(.success(response)) }
        } catch {
            finish(.failure(error))
        }
    }

    func inputClosed(_ connection: Connection) {
        do throws(StorageError) {
            if let response = try session.receiveEOF() { finish(.success(response)) }
        } catch {
            finish(.failure(error))
        }
        connection.close()
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        closed = true
        store?.forget(self)
        finish(.failure(.transport("connection closed\(error.map { ": \($0)" } ?? "")")))
    }

    private func finish(_ result: Result<HTTP1ClientResponse, StorageError>) {
        guard let completion else { return }
        self.completion = nil
        if let deadline { loop.cancelTimer(deadline) }
        deadline = nil
        completion(result, !closed && session.isReusable)
    }
}
