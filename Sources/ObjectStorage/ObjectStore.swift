/// Where segment objects go (segment-object.md §2, §10). `path` is relative to the store, e.g.
/// `segments/1/anonymous/<ULID>/block.bin`; the store applies its configured prefix
/// (`-storage.prefix`). A put completes successfully only once the whole object is durable
/// under its final name; no reader can ever see a partial object under that name.
///
/// The completion runs exactly once: for the blocking backends before `put` returns, for
/// loop-driven ones later on the loop's thread.
public protocol ObjectStore: AnyObject {
    func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void)
    func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void)
    /// The start-up health check (`-segment-writer.bucket-health-check-enabled`): the bucket or
    /// directory is reachable with our credentials.
    func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void)
    /// Ends every put of `path` still in flight as soon as it can. Each such put still completes
    /// once, with `StorageError.cancelled` (or its real outcome if that came first), and only
    /// after the attempt has really ended: its bytes are no longer in use and nothing more of it
    /// reaches the store. Stores whose puts cannot hang have nothing to cancel (the default).
    func cancelPuts(_ path: String)
}

extension ObjectStore {
    public func cancelPuts(_ path: String) {}
}

/// A blocking store whose request in flight another thread can end (`OffloadedObjectStore`'s
/// `cancelPuts`): `interruptRequest()` makes it fail `cancelled` at once, and every request
/// after it too until `clearInterruption()`. Both are safe from any thread.
public protocol InterruptibleObjectStore: ObjectStore {
    func interruptRequest()
    func clearInterruption()
}

/// A blocking store whose objects can be listed: for tools that read a writer's bucket back
/// (loadgen's audit). The writer itself never lists.
public protocol ListableObjectStore: ObjectStore {
    /// The path of every object under `directory` (`segments`, `dlq`: whole path parts),
    /// relative to the store's prefix as `put` and `get` take them, sorted.
    func paths(under directory: String) throws(StorageError) -> [String]
}
