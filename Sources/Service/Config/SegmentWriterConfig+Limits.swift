import Accumulator

extension SegmentWriterConfig {
    /// The decompressed-size bound of a profile: `-validation.max-profile-size-bytes`, or with 0
    /// (upstream: no limit of the tenant's own) the largest gRPC message this server accepts,
    /// at most `profileBytesCeiling`. The arenas are sized from it, so there must be one; a raw
    /// profile cannot be larger anyway.
    public var profileBytesMax: Int {
        limits.maxProfileSizeBytes > 0 ? limits.maxProfileSizeBytes : min(server.grpcMaxRecvMsgSizeBytes, Self.profileBytesCeiling)
    }

    /// The largest profile bound the writer takes: each shard's arena reserves address space for
    /// 64 times it, and 4096 shards (the default `-segment-writer.max-shards`) of 16 GiB are half
    /// of x86-64's 128 TiB of user address space.
    public static let profileBytesCeiling = 256 << 20
    /// The largest segment bound: the arena also holds 4 segments (the same 16 GiB).
    public static let segmentBytesCeiling = 4 << 30

    /// Each shard's bounds. Its column arena is address space (pages are committed as they are
    /// used). A segment is cut when its data reaches segment-max-bytes or its columns half the
    /// arena, so the other half is there for the next push, whose admission bound assumes every
    /// frame a new stack node: about 25× a real profile's decompressed size.
    var accumulatorLimits: AccumulatorLimits {
        let columnBytes = max(4 * segmentWriter.segmentMaxBytes, 64 * profileBytesMax, 64 << 20)
        return AccumulatorLimits(accumulatedBytesMax: columnBytes, profileBytesMax: profileBytesMax)
    }
}
