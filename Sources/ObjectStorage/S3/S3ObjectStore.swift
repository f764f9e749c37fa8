import Runtime
import TLS

/// `-storage.backend=s3` over the blocking transport: each put is one signed PUT with
/// `Content-MD5`, so S3 only stores it if every byte arrived; S3 makes an object visible
/// only when its PUT completes, so there is never a partial object under the key. The endpoint
/// is resolved for every new connection (`BlockingHTTPTransport`).
public final class S3ObjectStore: InterruptibleObjectStore, ListableObjectStore {
    public let client: S3Client
    public let prefix: String
    /// The connection the store uses (for requests the store does not wrap, e.g. HEAD and list).
    public let transport: BlockingHTTPTransport
    let now: () -> AmzDate

    public convenience init(configuration: S3Configuration, prefix: String = "", now: @escaping () -> AmzDate = AmzDate.now) throws(StorageError) {
        try self.init(configuration: configuration, prefix: prefix, now: now, resolver: EndpointAddress.resolve)
    }

    /// `resolver` replaces getaddrinfo (tests: a name whose addresses change).
    init(configuration: S3Configuration, prefix: String = "", now: @escaping () -> AmzDate = AmzDate.now,
         resolver: @escaping EndpointResolver) throws(StorageError) {
        client = try S3Client(configuration: configuration)
        self.prefix = prefix
        let tls = client.endpoint.useTLS ? try storageTLS { () throws(TLSError) in try TLSClientContext(verification: configuration.tlsVerification) } : nil
        transport = BlockingHTTPTransport(endpoint: client.endpoint, tlsContext: tls, ioTimeoutMs: configuration.ioTimeoutMs,
                                          requestTimeoutMs: configuration.requestTimeoutMs, resolver: resolver)
        self.now = now
    }

    /// TCP connections opened so far (keep-alive reuse keeps this low).
    public var connectionsOpened: Int { transport.connectionsOpened }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        completion(Result { () throws(StorageError) in
            try ObjectPath.validate(path)
            let response = try transport.roundTrip(client.putObject(key: ObjectPath.join(prefix: prefix, path), body: bytes, date: now()))
            try S3Client.check(response)
        })
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        completion(Result { () throws(StorageError) in
            try ObjectPath.validate(path)
            let response = try transport.roundTrip(client.getObject(key: ObjectPath.join(prefix: prefix, path), date: now()))
            try S3Client.check(response)
            return response.body
        })
    }

    /// `InterruptibleObjectStore`: from another thread, ends the request in flight.
    public func interruptRequest() { transport.interrupt() }
    public func clearInterruption() { transport.clearInterruption() }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        completion(Result { () throws(StorageError) in
            let response = try transport.roundTrip(client.listObjectsV2(maxKeys: 1, date: now()))
            try S3Client.check(response)
        })
    }

    /// The bucket's region (GetBucketLocation).
    public func bucketRegion() throws(StorageError) -> String {
        try S3Region.fromLocationResponse(transport.roundTrip(client.getBucketLocation(date: now())))
    }

    /// ListObjectsV2 page after page (1000 keys each) under `prefix/directory/`.
    public func paths(under directory: String) throws(StorageError) -> [String] {
        try paths(under: directory, keysPerPage: 1000)
    }

    /// The same with `keysPerPage` keys asked for per ListObjectsV2 page.
    public func paths(under directory: String, keysPerPage: Int) throws(StorageError) -> [String] {
        precondition(keysPerPage > 0, "a ListObjectsV2 page holds at least one key")
        try ObjectPath.validate(directory)
        let listed = ObjectPath.join(prefix: prefix, directory) + "/"
        let stripped = listed.utf8.count - directory.utf8.count - 1
        var paths: [String] = []
        var token: String?
        repeat {
            let response = try transport.roundTrip(client.listObjectsV2(prefix: listed, maxKeys: keysPerPage, continuationToken: token, date: now()))
            try S3Client.check(response)
            let page = S3Client.parseList(response.body)
            paths += page.keys.filter { $0.hasPrefix(listed) }.map { String($0.utf8.dropFirst(stripped))! }
            token = page.nextContinuationToken
        } while token != nil
        return paths.sorted()
    }
}
