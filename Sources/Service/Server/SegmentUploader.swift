import BinaryCoding
import GRPC
import Metastore
import ObjectStorage
import Runtime
import SegmentObject

/// One flushed segment on its way to object storage, with the Pushes it will answer.
struct SegmentUpload {
    let shard: UInt32
    let meta: BlockMeta
    let object: [UInt8]
    let acks: [PendingAck]
    /// Monotonic time the flush started (for the flush duration metric).
    let flushStartNs: UInt64
}

/// Makes a flushed segment durable on its owner loop and only then answers its Pushes
/// (ingest-and-ops.md §1.4, segment-object.md §10.3–§10.5):
/// 1. `segments/{shard}/anonymous/{ULID}/block.bin` through the loop's store (io_uring
///    filesystem sequence, or S3 on the loop's connections), retried with backoff inside
///    `-segment-writer.upload-timeout`, with one hedged second upload when the first is still
///    running after `-segment-writer.upload-hedge-after` (first success wins);
/// 2. when `-metastore.address` is set, AddBlock on the loop's `MetastoreClient` (leader
///    discovery and retries inside `-segment-writer.metadata-update-timeout`);
/// 3. when AddBlock failed and `-segment-writer.metadata-dlq-enabled`, or when no metastore is
///    configured: `dlq/{shard}/anonymous/{ULID}/meta.pb`, which Pyroscope's metastore recovers (§12).
/// Loop-confined; completions arrive on the loop.
final class SegmentUploader {
    private unowned let context: LoopContext
    private let store: any ObjectStore
    /// Nil when `-metastore.address` is empty (metadata goes to the DLQ path directly).
    private let metastore: MetastoreClient?

    init(context: LoopContext, store: any ObjectStore) {
        self.context = context
        self.store = store
        let server = context.server
        if server.metastoreEndpoints.isEmpty {
            metastore = nil
        } else {
            var configuration = MetastoreClientConfiguration(endpoints: server.metastoreEndpoints)
            configuration.timeoutNs = UInt64(max(1_000_000, server.config.segmentWriter.metadataUpdateTimeoutNs))
            configuration.connectTimeoutNs = UInt64(max(1_000_000, server.config.metastore.connectTimeoutNs))
            metastore = MetastoreClient(loop: context.loop, configuration: configuration)
        }
    }

    func upload(_ job: SegmentUpload) {
        let server = context.server
        server.uploadsInFlight.add(1, ordering: .sequentiallyConsistent)
        let id = String(decoding: job.meta.id.bytes, as: UTF8.self)
        let race = UploadRace()
        putBlock(job, race) { [self] blockError in
            if let blockError {
                return finish(job, race, GRPCStatus(.unknown, ByteString("failed to upload block \(id): \(blockError)")))
            }
            storeMetadata(job) { error in
                guard let error else { return self.finish(job, race, .ok) }
                self.finish(job, race, GRPCStatus(.unknown, ByteString("failed to store meta \(id): \(error)")))
            }
        }
    }

    /// AddBlock, then the DLQ fallback (segment-object.md §10.4–§10.5); `done(nil)` once the
    /// metadata is registered or in the DLQ. The duration metric covers both, as upstream's does.
    private func storeMetadata(_ job: SegmentUpload, done: @escaping (String?) -> Void) {
        let server = context.server
        let config = server.config.segmentWriter
        let startNs = EventLoop.monotonicNowNs
        let id = String(decoding: job.meta.id.bytes, as: UTF8.self)
        let settle = { (error: String?) in
            server.metrics.storeMetadataDuration(success: error == nil).record(seconds(since: startNs))
            done(error)
        }
        let dlq = { [self] in
            put(ObjectPath.metadataDLQ(job.meta), job.meta.dlqObject(), timeoutNs: config.metadataUpdateTimeoutNs) { error in
                server.metrics.storeMetadataDLQ(success: error == nil).increment()
                if let error { server.log.error("metastore fallback failed", ["block": id, "err": "\(error)"]) }
                settle(error.map { "\($0)" })
            }
        }
        guard let metastore else { return dlq() }
        metastore.addBlock(job.meta.addBlockRequest()) { error in
            guard let error else { return settle(nil) }
            server.log.error("failed to store meta in metastore", ["block": id, "err": "\(error)"])
            guard config.metadataDLQEnabled else { return settle("\(error)") }
            dlq()
        }
    }

    /// The block upload and its hedge (ingest-and-ops.md §1.4): `done` runs once, with nil
    /// at the first success, or with the error once every started attempt failed, or at the
    /// upload timeout. Once `done` ran, attempts still running are cancelled (the store closes
    /// their connections; a late success cannot land an object answered UNKNOWN, and a losing
    /// hedge stops sending).
    private func putBlock(_ job: SegmentUpload, _ race: UploadRace, done: @escaping (StorageError?) -> Void) {
        let server = context.server
        let config = server.config.segmentWriter
        let path = ObjectPath.dataObject(job.meta)
        let startNs = EventLoop.monotonicNowNs
        let deadlineNs = startNs &+ UInt64(config.uploadTimeoutNs)
        func settle(_ error: StorageError?, hedged: Bool) {
            if hedged { race.hedgeRunning = false } else { race.primaryRunning = false }
            let histogram = hedged ? server.metrics.hedgedUploadDuration(success: error == nil)
                                   : server.metrics.uploadDuration(success: error == nil)
            histogram.record(seconds(since: startNs))
            releaseWhenEnded(job, race)
            guard !race.settled else { return }
            if let error {
                race.lastError = error
                guard !race.primaryRunning && !race.hedgeRunning else { return }  // the other may still win
            }
            settleRace(race, path)
            done(error)
        }
        put(path, job.object, timeoutNs: config.uploadTimeoutNs, race: race) { settle($0, hedged: false) }
        // A request still in flight at the upload timeout (a store that takes the PUT and never
        // answers; S3's I/O timeout is longer) no longer holds the answer (§1.4: the timeout
        // bounds the whole upload): it is cancelled, and the answer is UNKNOWN.
        let timeoutMs = UInt64(max(1, config.uploadTimeoutNs / 1_000_000))
        race.deadlineTimer = context.loop.scheduleTimer(afterMs: timeoutMs) { [self] _ in
            race.deadlineTimer = nil
            guard !race.settled else { return }
            settleRace(race, path)
            done(race.lastError ?? .transport("no answer within the upload timeout (\(timeoutMs) ms)"))
        }
        guard config.uploadHedgeAfterNs > 0, config.uploadHedgeAfterNs < config.uploadTimeoutNs else { return }
        race.hedgeTimer = context.loop.scheduleTimer(afterMs: UInt64(max(1, config.uploadHedgeAfterNs / 1_000_000))) { [self] _ in
            race.hedgeTimer = nil
            guard !race.settled, race.primaryRunning, server.hedgeLimiter.allow(nowNs: EventLoop.monotonicNowNs) else { return }
            race.hedgeRunning = true
            let remainingNs = Int64(deadlineNs &- min(deadlineNs, EventLoop.monotonicNowNs))
            // Upstream's hedge retries until the timeout (MaxRetries=0 in dskit, §1.4).
            put(path, job.object, timeoutNs: remainingNs, attemptsMax: Int.max, race: race) { settle($0, hedged: true) }
        }
    }

    /// The race has its outcome: stop its timers, and cancel the attempts still running (no
    /// retry starts after this; their completions still arrive and end them).
    private func settleRace(_ race: UploadRace, _ path: String) {
        race.settled = true
        if let timer = race.hedgeTimer { context.loop.cancelTimer(timer) }
        if let timer = race.deadlineTimer { context.loop.cancelTimer(timer) }
        race.hedgeTimer = nil
        race.deadlineTimer = nil
        race.cancelled = true
        if race.primaryRunning || race.hedgeRunning { store.cancelPuts(path) }
    }

    /// The segment's bytes stay charged to the memory budget until it is answered and every
    /// attempt to store them has ended (for a cancelled put: once the store confirmed it).
    private func releaseWhenEnded(_ job: SegmentUpload, _ race: UploadRace) {
        guard race.answered, !race.primaryRunning, !race.hedgeRunning, !race.released else { return }
        race.released = true
        context.server.budget.release(job.object.count)
    }

    private func finish(_ job: SegmentUpload, _ race: UploadRace, _ status: GRPCStatus) {
        let server = context.server
        let id = String(decoding: job.meta.id.bytes, as: UTF8.self)
        if status == .ok {
            server.metrics.segmentSize(shard: job.shard).record(Double(job.object.count))
            server.log.debug("segment flushed", ["shard": String(job.shard), "block": id,
                                                 "bytes": String(job.object.count), "pushes": String(job.acks.count)])
        } else {
            server.log.error("segment flush failed", ["shard": String(job.shard), "block": id, "err": "\(status.message)"])
        }
        server.metrics.flushDuration(shard: job.shard).record(seconds(since: job.flushStartNs))
        race.answered = true
        releaseWhenEnded(job, race)
        context.answer(job.acks, status: status)
        server.uploadsInFlight.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Up to `-segment-writer.upload-max-retries` attempts, doubling the backoff between the
    /// min and max retry periods, all inside `timeoutNs` (dskit backoff semantics, §5.1); no
    /// further attempt once `race` was cancelled.
    private func put(_ path: String, _ bytes: [UInt8], timeoutNs: Int64, attemptsMax: Int? = nil, race: UploadRace? = nil,
                     attempt: Int = 1, deadlineNs: UInt64? = nil, backoffNs: UInt64? = nil,
                     done: @escaping (StorageError?) -> Void) {
        let config = context.server.config.segmentWriter
        let deadline = deadlineNs ?? EventLoop.monotonicNowNs &+ UInt64(timeoutNs)
        let backoff = backoffNs ?? UInt64(config.uploadRetryMinPeriodNs)
        store.put(path, bytes) { [self] result in
            guard case .failure(let error) = result else { return done(nil) }
            guard race?.cancelled != true, attempt < (attemptsMax ?? max(1, config.uploadMaxRetries)),
                  EventLoop.monotonicNowNs &+ backoff < deadline else {
                return done(error)
            }
            context.loop.scheduleTimer(afterMs: max(1, backoff / 1_000_000)) { [self] _ in
                guard race?.cancelled != true else { return done(.cancelled) }
                put(path, bytes, timeoutNs: timeoutNs, attemptsMax: attemptsMax, race: race, attempt: attempt + 1, deadlineNs: deadline,
                    backoffNs: min(backoff * 2, UInt64(config.uploadRetryMaxPeriodNs)), done: done)
            }
        }
    }
}

/// The state one block upload and its hedge share (loop-confined).
private final class UploadRace {
    var primaryRunning = true
    var hedgeRunning = false
    var settled = false
    /// No attempt starts any more; running ones were asked to cancel.
    var cancelled = false
    /// The segment's Pushes were answered / its bytes released from the budget.
    var answered = false
    var released = false
    var lastError: StorageError?
    var hedgeTimer: TimerID?
    var deadlineTimer: TimerID?
}

func seconds(since startNs: UInt64) -> Double {
    Double(EventLoop.monotonicNowNs &- startNs) / 1e9
}
