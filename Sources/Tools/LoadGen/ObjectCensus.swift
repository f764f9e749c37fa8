import ObjectStorage
import SegmentObject

/// "Exactly one object per active shard per segment duration, never more": the segment
/// objects a bucket holds under `segments/{shard}/anonymous/{ULID}/block.bin`
/// whose ULID time (the segment's open time) lies in the measurement window, per shard,
/// against the ideal of one per shard per segment duration.
public struct ObjectCensus: Codable, Sendable, Equatable {
    public var segmentDurationMs: Int
    public var windowMs: Int
    /// Segment durations in the window: the ideal object count of one busy shard.
    public var idealPerShard: Double
    public var shardsActive: Int
    public var objects: Int
    /// Mean over active shards of objects / `idealPerShard` (1.0 is ideal).
    public var perShardPerSegment: Double
    /// The largest shard's ratio.
    public var maxPerShardPerSegment: Double
    /// Smallest gap between the open times of two consecutive objects of one shard; well
    /// below `segmentDurationMs` means a shard flushed twice in one period.
    public var minIntervalMs: Int?
    public var objectsPerShard: [String: Int]

    /// Open times (Unix ms) of objects per shard, from `bucket`.
    public static func scan(_ bucket: any ListableObjectStore) throws(StorageError) -> [UInt32: [UInt64]] {
        var result: [UInt32: [UInt64]] = [:]
        for object in try BucketObjects.list(bucket) {
            guard let shard = UInt32(object.shard), let ulid = try? ULID(parsing: Array(object.ulid.utf8)) else { continue }
            result[shard, default: []].append(ulid.timeMs)
        }
        return result
    }

    public init(openTimes: [UInt32: [UInt64]], windowStartUnixMs: UInt64, windowEndUnixMs: UInt64, segmentDurationMs: Int) {
        precondition(windowEndUnixMs > windowStartUnixMs && segmentDurationMs > 0)
        self.segmentDurationMs = segmentDurationMs
        windowMs = Int(windowEndUnixMs - windowStartUnixMs)
        let ideal = Double(windowMs) / Double(segmentDurationMs)
        idealPerShard = ideal
        var perShard: [String: Int] = [:]
        var gapMin: UInt64?
        for (shard, times) in openTimes {
            let inWindow = times.filter { $0 >= windowStartUnixMs && $0 < windowEndUnixMs }.sorted()
            guard !inWindow.isEmpty else { continue }
            perShard[String(shard)] = inWindow.count
            for (a, b) in zip(inWindow, inWindow.dropFirst()) { gapMin = min(gapMin ?? .max, b - a) }
        }
        objectsPerShard = perShard
        shardsActive = perShard.count
        objects = perShard.values.reduce(0, +)
        let ratios = perShard.values.map { Double($0) / ideal }
        perShardPerSegment = ratios.isEmpty ? 0 : ratios.reduce(0, +) / Double(ratios.count)
        maxPerShardPerSegment = ratios.max() ?? 0
        minIntervalMs = gapMin.map(Int.init)
    }
}
