import Accumulator
import BinaryCoding
import GRPC
import Pprof
import Prometheus
import Runtime
import SegmentObject
#if canImport(Glibc)
import Glibc
#endif

/// One shard on its owner loop (`shard % N`): the accumulator of the current segment, the
/// Pushes parked on it, and the ticker that flushes it every segment duration
/// (ingest-and-ops.md §1.4). Created by its first valid Push (within
/// `-segment-writer.max-shards`), never removed, as upstream. Loop-confined.
final class ShardHead {
    let shard: UInt32
    private unowned let context: LoopContext
    private let accumulator: ShardAccumulator
    private var parked: [PendingAck] = []
    private(set) var segmentID: ULID
    /// Accumulated bytes charged to the memory budget for the current segment.
    private var chargedBytes = 0
    private var ingestBytes: [String: ValueHistogram] = [:]
    private let ingestDuration: ValueHistogram
    private let encodeDuration: ValueHistogram
    private let flushHeadsDuration: ValueHistogram
    private let arenaCommitted: Gauge

    /// `accumulator` holds the shard's first Push already (`take`). `phase` in [0, 1): how far
    /// into the period this shard's flushes fall (see `LoopContext.ingest`); its first segment
    /// is that much shorter.
    init(shard: UInt32, context: LoopContext, accumulator: ShardAccumulator, phase: Double) {
        self.shard = shard
        self.context = context
        self.accumulator = accumulator
        ingestDuration = context.server.metrics.pushIngestDuration(shard: shard)
        encodeDuration = context.server.metrics.segmentEncodeDuration(shard: shard)
        flushHeadsDuration = context.server.metrics.flushHeadsDuration(shard: shard)
        arenaCommitted = context.server.metrics.arenaCommittedBytes(shard: shard)
        segmentID = Self.newSegmentID()
        let periodMs = max(1, UInt64(context.server.config.segmentWriter.segmentDurationNs / 1_000_000))
        let firstMs = max(1, periodMs - UInt64(phase * Double(periodMs)))
        context.loop.scheduleTimer(afterMs: firstMs, repeatingEveryMs: periodMs) { [unowned self] _ in self.flush() }
    }

    var parkedCount: Int { parked.count }

    /// Appends the Push to the current segment and parks its acknowledgement there, or
    /// refuses it with the status to answer now (the accumulator left unchanged).
    func ingest(_ push: PushRequestView, ack: PendingAck) -> IngestOutcome {
        do throws(PushError) {
            return park(push, try Self.take(push, into: accumulator), ack: ack)
        } catch {
            return .refused(GRPCStatus(error))
        }
    }

    /// The accumulator's part of `ingest`: the Push checked and appended, or refused with the
    /// accumulator left unchanged. A new shard's first Push goes through it before the shard
    /// exists, so a refused one creates nothing.
    static func take(_ push: PushRequestView, into accumulator: ShardAccumulator) throws(PushError) -> TakenPush {
        let before = accumulator.accumulatedBytes
        let startNs = EventLoop.monotonicNowNs
        let stats = try accumulator.ingest(push)
        return TakenPush(stats: stats, grownBytes: accumulator.accumulatedBytes - before, durationNs: EventLoop.monotonicNowNs &- startNs)
    }

    /// The rest of `ingest`, once `take` appended the Push: budget, metrics, the parked answer.
    func park(_ push: PushRequestView, _ taken: TakenPush, ack: PendingAck) -> IngestOutcome {
        ingestDuration.record(Double(taken.durationNs) / 1e9)
        let segment = segmentID
        context.server.budget.charge(taken.grownBytes)
        chargedBytes += taken.grownBytes
        parked.append(ack)
        observeIngest(push, taken.stats)
        if accumulator.shouldFlushEarly(segmentBytesMax: context.server.config.segmentWriter.segmentMaxBytes) { flush() }
        return .parked(segment: segment)
    }

    /// Swaps the segment: encodes what accumulated into one object and hands it, with the
    /// parked acknowledgements, to the uploader; a segment without Pushes uploads nothing.
    func flush() {
        defer { segmentID = Self.newSegmentID() }
        guard accumulator.pushCount > 0 else {
            precondition(parked.isEmpty, "acknowledgements parked on a segment without pushes")
            return
        }
        let startNs = EventLoop.monotonicNowNs
        var writer = ByteWriter(capacity: chargedBytes / 2)
        guard let (meta, datasets) = accumulator.flushWithStats(segmentID: segmentID, shard: shard,
                                                                 createdBy: context.server.hostname, into: &writer) else {
            preconditionFailure("a segment with pushes flushed to nothing")
        }
        arenaCommitted.set(to: Double(accumulator.arenaCommittedBytes))
        let encodeSeconds = Double(EventLoop.monotonicNowNs &- startNs) / 1e9
        encodeDuration.record(encodeSeconds)
        flushHeadsDuration.record(encodeSeconds)
        for d in meta.datasets {
            context.server.metrics.observeDatasetSize(shard: shard, tenant: meta.string(at: d.tenant).map { String(decoding: $0.bytes, as: UTF8.self) } ?? "",
                                                      tenantIndex: d.format == DatasetFormat.tenantIndex.rawValue, bytes: Int(d.size))
        }
        for d in datasets {
            let seconds = Double(d.durationNs) / 1e9
            context.server.metrics.observeHeadFlush(series: d.series, profiles: d.profiles, samples: d.samples, unsymbolized: d.unsymbolized,
                                                    profilesBytes: d.profilesBytes, indexBytes: d.indexBytes, symbolsBytes: d.symbolsBytes,
                                                    seconds: seconds)
            context.server.metrics.flushServiceHeadDuration(shard: shard, tenant: String(decoding: d.tenant.bytes, as: UTF8.self))
                .record(seconds)
        }
        let budget = context.server.budget
        budget.charge(writer.count)
        budget.release(chargedBytes)
        chargedBytes = 0
        let acks = parked
        parked.removeAll(keepingCapacity: true)
        context.uploader.upload(SegmentUpload(shard: shard, meta: meta, object: writer.bytes, acks: acks, flushStartNs: startNs))
    }

    private func observeIngest(_ push: PushRequestView, _ stats: PushIngestStats) {
        let tenant = context.tenantName(push.tenantID)
        let histogram: ValueHistogram
        if let cached = ingestBytes[tenant] {
            histogram = cached
        } else {
            histogram = context.server.metrics.ingestBytes(shard: shard, tenant: tenant)
            ingestBytes[tenant] = histogram
        }
        histogram.record(Double(stats.profileBytes))

        var profileName = UnsafeRawBufferPointer(start: nil, count: 0)
        for pair in push.labels where pair.name.elementsEqual("__name__".utf8) {
            profileName = pair.value
            break
        }
        let counters = context.headIngestCounters(profileName: profileName)
        counters.seriesCreated.increment(by: Int64(stats.seriesCreated))
        counters.profilesCreated.increment(by: Int64(stats.profilesCreated))
        counters.sampleValuesIngested.increment(by: Int64(stats.sampleValuesIngested))
        counters.sampleValuesReceived.increment(by: Int64(stats.sampleValuesReceived))
    }

    /// A ULID for a segment opening now: wall-clock milliseconds and 80 random bits.
    static func newSegmentID() -> ULID {
        var rng = SystemRandomNumberGenerator()
        let entropy = (0 ..< 10).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        return ULID(timeMs: UInt64(EventLoop.realtimeNowNs / 1_000_000), entropy: entropy)
    }
}

/// A Push `ShardHead.take` appended to an accumulator.
struct TakenPush {
    let stats: PushIngestStats
    let grownBytes: Int
    let durationNs: UInt64
}

enum IngestOutcome {
    case parked(segment: ULID)
    case refused(GRPCStatus)
}

extension GRPCStatus {
    /// A refused Push's status (ingest-and-ops.md §1.3), from `PushError.statusCode`.
    init(_ error: PushError) {
        self.init(GRPC.GRPCStatusCode(rawValue: UInt8(truncatingIfNeeded: error.statusCode)) ?? .unknown, ByteString(error.message))
    }
}
