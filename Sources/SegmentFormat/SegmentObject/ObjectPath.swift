import BinaryCoding

/// Object keys relative to the bucket (segment-object.md §2).
public enum ObjectPath {
    public static let segmentsDirectory = "segments"
    public static let blocksDirectory = "blocks"
    public static let dlqDirectory = "dlq"
    public static let anonymousTenant = "anonymous"
    public static let dataObjectName = "block.bin"
    public static let metadataObjectName = "meta.pb"

    /// `segments/<shard>/anonymous/<id>/block.bin` at level 0, else
    /// `blocks/<shard>/<tenant>/<id>/block.bin`.
    public static func dataObject(_ meta: BlockMeta) -> String {
        if meta.compactionLevel == 0 {
            return join(segmentsDirectory, meta.shard, anonymousTenant, meta.id, dataObjectName)
        }
        return join(blocksDirectory, meta.shard, tenant(meta), meta.id, dataObjectName)
    }

    /// `dlq/<shard>/anonymous/<id>/meta.pb` at level 0, else `dlq/<shard>/<tenant>/<id>/meta.pb`.
    public static func metadataDLQ(_ meta: BlockMeta) -> String {
        let dir = meta.compactionLevel == 0 ? anonymousTenant : tenant(meta)
        return join(dlqDirectory, meta.shard, dir, meta.id, metadataObjectName)
    }

    /// The ULID in the second-to-last path element (`ParseBlockIDFromPath`).
    public static func blockID(fromPath path: String) throws(DecodeError) -> ULID {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2 else {
            throw DecodeError(.malformed, at: 0, "path \(path) has no block ID element")
        }
        return try ULID(parsing: Array(parts[parts.count - 2].utf8))
    }

    /// `metadata.Tenant`: the block tenant's string, "" when the index is 0 or out of range.
    static func tenant(_ meta: BlockMeta) -> String {
        guard meta.tenant > 0, let s = meta.string(at: meta.tenant) else { return "" }
        return s.description
    }

    private static func join(_ top: String, _ shard: UInt32, _ tenant: String, _ id: ByteString, _ file: String) -> String {
        "\(top)/\(shard)/\(tenant)/\(id.description)/\(file)"
    }
}
