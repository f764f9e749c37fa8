import Runtime

/// `-storage.backend`.
public enum StorageBackend: String, Sendable {
    case filesystem
    case s3
}

/// The `-storage.*` flags (parsed by the service) gathered for the stores.
public struct StorageConfiguration: Sendable {
    public var backend: StorageBackend
    /// `-storage.prefix`: prepended (with `/`) to every object path.
    public var prefix: String
    /// `-storage.filesystem.dir`.
    public var filesystemDirectory: String
    /// The `-storage.s3.*` flags; required when `backend == .s3`.
    public var s3: S3Configuration?

    public init(backend: StorageBackend, prefix: String = "", filesystemDirectory: String = "./data", s3: S3Configuration? = nil) {
        self.backend = backend
        self.prefix = prefix
        self.filesystemDirectory = filesystemDirectory
        self.s3 = s3
    }

    /// A blocking store (start-up health check, tools); the loops build their own ring-driven ones.
    public func makeBlockingStore() throws(StorageError) -> any ListableObjectStore {
        switch backend {
        case .filesystem:
            return FilesystemObjectStore(root: filesystemDirectory, prefix: prefix)
        case .s3:
            guard let s3 else { throw .configuration("-storage.backend=s3 without -storage.s3.* settings") }
            return try S3ObjectStore(configuration: s3, prefix: prefix)
        }
    }

    /// With S3, no `-storage.s3.region` and an endpoint whose host names none (not AWS, or its
    /// global `s3.amazonaws.com`): a copy signing for the bucket's region, asked once
    /// (GetBucketLocation), as minio-go asks before its first request; `timeoutMs` (nil: the
    /// configuration's) bounds that request as a whole. Otherwise `self`.
    public func locatingS3Region(timeoutMs: Int? = nil) throws(StorageError) -> StorageConfiguration {
        guard backend == .s3, var s3, s3.region.isEmpty,
              S3Region.fromHost(try S3Endpoint.parse(s3.endpoint, insecure: s3.insecure).host) == nil else { return self }
        var located = self
        s3.ioTimeoutMs = timeoutMs ?? s3.ioTimeoutMs
        s3.requestTimeoutMs = timeoutMs ?? s3.requestTimeoutMs
        located.s3?.region = try S3ObjectStore(configuration: s3).bucketRegion()
        return located
    }

    /// The store one event loop uses for flushes: io_uring filesystem writes or S3 over io_uring
    /// sockets; when the loop has no ring (the host refuses io_uring), the blocking stores on
    /// worker threads beside the loop (`OffloadedObjectStore`), so the loop never waits for
    /// them.
    public func makeLoopStore(on loop: EventLoop) throws(StorageError) -> any ObjectStore {
        guard let ring = loop.ring else { return try OffloadedObjectStore(loop: loop) { () throws(StorageError) in try makeBlockingStore() } }
        switch backend {
        case .filesystem:
            return RingFilesystemObjectStore(ring: ring, root: filesystemDirectory, prefix: prefix)
        case .s3:
            guard let s3 else { throw .configuration("-storage.backend=s3 without -storage.s3.* settings") }
            return try RingS3ObjectStore(loop: loop, ring: ring, configuration: s3, prefix: prefix)
        }
    }
}
