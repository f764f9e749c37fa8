import Accumulator

extension SegmentWriterConfig {
    /// The decompressed-size bound of a profile: `-validation.max-profile-size-bytes`, or with 0
    /// (upstream: no limit of the tenant's own) the largest gRPC message this server accepts,
    /// at most `profileBytesCeiling`. The arenas are sized from it, so there must be one; a raw
    /// profile cannot be larger anyway.
    public var profileBytesMax: Int {
        limits.maxProfileSizeBytes > 0 ? limits.maxProfileSizeBytes : min(server.grpcMaxRecvMsgSizeBytes, Self.profileBytesCeiling)
    }

    /// The largest profile bound the writer takes: each shard's arena reserves 64 times it.
    public static let profileBytesCeiling = 1 << 30

    /// Each shard's bounds. Its column arena is address space (pages are committed as they are
    /// used). A segment is cut when its data reaches segment-max-bytes or its columns half the
    /// arena, so the other half is there for the next push, whose admission bound assumes every
    /// frame a new stack node: about 25× a real profile's decompressed size.
    var accumulatorLimits: AccumulatorLimits {
        let columnBytes = max(4 * segmentWriter.segmentMaxBytes, 64 * profileBytesMax, 64 << 20)
        return AccumulatorLimits(accumulatedBytesMax: columnBytes, profileBytesMax: profileBytesMax)
    }
}
