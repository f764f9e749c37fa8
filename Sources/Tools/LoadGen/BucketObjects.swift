import ObjectStorage

/// An object of a writer's bucket, `{top}/{shard}/anonymous/{ULID}/{file}`: its path as the
/// store takes it, and the two folder names as found (not parsed).
public struct BucketObject: Equatable, Sendable {
    public var shard: String
    public var ulid: String
    public var path: String

    /// `shard/ULID`: the object's segment, whichever file of it (`block.bin`, a DLQ `meta.pb`)
    /// or registration names it.
    public var segment: String { Self.segment(shard: shard, ulid: ulid) }

    public static func segment(shard: String, ulid: String) -> String { shard + "/" + ulid }
}

/// The segment objects of a bucket (`segments/…/block.bin`) or, with `top` and `file`, the
/// DLQ's metadata records (`dlq/…/meta.pb`), read through the store the writer's own
/// configuration names: a filesystem directory or an S3 bucket, under `-storage.prefix`.
enum BucketObjects {
    /// Sorted by path; anything else under `top` is not listed.
    static func list(_ bucket: any ListableObjectStore, top: String = "segments", file: String = "block.bin")
        throws(StorageError) -> [BucketObject] {
        try bucket.paths(under: top).compactMap { path in
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[2] == "anonymous", parts[4] == file else { return nil }
            return BucketObject(shard: String(parts[1]), ulid: String(parts[3]), path: path)
        }
    }

    /// One object's bytes (the blocking stores complete before `get` returns).
    static func read(_ bucket: any ListableObjectStore, _ path: String) throws(StorageError) -> [UInt8] {
        var result: Result<[UInt8], StorageError>?
        bucket.get(path) { result = $0 }
        guard let result else { preconditionFailure("a blocking store's get returned before completing") }
        return try result.get()
    }
}
