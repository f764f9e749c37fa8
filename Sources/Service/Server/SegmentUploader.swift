import BinaryCoding
import GRPC
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
/// (ingest-and-ops.md §1.4): `segments/{shard}/anonymous/{ULID}/block.bin` through the loop's
/// store (io_uring filesystem sequence, or S3 on the loop's connections), retried with backoff
/// inside `-segment-writer.upload-timeout`, with one hedged second upload when the first is
/// still running after `-segment-writer.upload-hedge-after` (first success wins); then the
/// metadata. **Seam:** no metastore client exists yet, so the metadata always goes to
/// `dlq/{shard}/anonymous/{ULID}/meta.pb` (segment-object.md §10.5, §12), which Pyroscope's
/// metastore recovers. Loop-confined; completions arrive on the loop.
final class SegmentUploader {
    private unowned let context: LoopContext
    private let store: any ObjectStore

    init(context: LoopContext, store: any ObjectStore) {
        self.context = context
        self.store = store
    }

    func upload(_ job: SegmentUpload) {
        let server = context.server
        server.uploadsInFlight.add(1, ordering: .sequentiallyConsistent)
        let id = String(decoding: job.meta.id.bytes, as: UTF8.self)
        let config = server.config.segmentWriter
        putBlock(job) { [self] blockError in
            if let blockError {
                return finish(job, GRPCStatus(.unknown, ByteString("failed to upload block \(id): \(blockError)")))
            }
            put(ObjectPath.metadataDLQ(job.meta), job.meta.dlqObject(), timeoutNs: config.metadataUpdateTimeoutNs) { metaError in
                server.metrics.storeMetadataDLQ(success: metaError == nil).increment()
                if let metaError {
                    return self.finish(job, GRPCStatus(.unknown, ByteString("failed to store meta \(id): \(metaError)")))
                }
                self.finish(job, .ok)
            }
        }
    }

    /// The block upload and its hedge (ingest-and-ops.md §1.4): `done` runs once, with nil
    /// at the first success, or with the error once every started attempt failed.
    private func putBlock(_ job: SegmentUpload, done: @escaping (StorageError?) -> Void) {
        let server = context.server
        let config = server.config.segmentWriter
        let path = ObjectPath.dataObject(job.meta)
        let race = UploadRace()
        let startNs = EventLoop.monotonicNowNs
        let deadlineNs = startNs &+ UInt64(config.uploadTimeoutNs)
        func settle(_ error: StorageError?, hedged: Bool) {
            if hedged { race.hedgeRunning = false } else { race.primaryRunning = false }
            let histogram = hedged ? server.metrics.hedgedUploadDuration(success: error == nil)
                                   : server.metrics.uploadDuration(success: error == nil)
            histogram.record(seconds(since: startNs))
            guard !race.settled else { return }
            if let error {
                race.lastError = error
                guard !race.primaryRunning && !race.hedgeRunning else { return }  // the other may still win
            }
            race.settled = true
            if let timer = race.hedgeTimer { context.loop.cancelTimer(timer) }
            done(error)
        }
        put(path, job.object, timeoutNs: config.uploadTimeoutNs) { settle($0, hedged: false) }
        guard config.uploadHedgeAfterNs > 0, config.uploadHedgeAfterNs < config.uploadTimeoutNs else { return }
        race.hedgeTimer = context.loop.scheduleTimer(afterMs: UInt64(max(1, config.uploadHedgeAfterNs / 1_000_000))) { [self] _ in
            race.hedgeTimer = nil
            guard !race.settled, race.primaryRunning, server.hedgeLimiter.allow(nowNs: EventLoop.monotonicNowNs) else { return }
            race.hedgeRunning = true
            let remainingNs = Int64(deadlineNs &- min(deadlineNs, EventLoop.monotonicNowNs))
            // Upstream's hedge retries until the timeout (MaxRetries=0 in dskit, §1.4).
            put(path, job.object, timeoutNs: remainingNs, attemptsMax: Int.max) { settle($0, hedged: true) }
        }
    }

    private func finish(_ job: SegmentUpload, _ status: GRPCStatus) {
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
        server.budget.release(job.object.count)
        context.answer(job.acks, status: status)
        server.uploadsInFlight.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Up to `-segment-writer.upload-max-retries` attempts, doubling the backoff between the
    /// min and max retry periods, all inside `timeoutNs` (dskit backoff semantics, §5.1).
    private func put(_ path: String, _ bytes: [UInt8], timeoutNs: Int64, attemptsMax: Int? = nil,
                     attempt: Int = 1, deadlineNs: UInt64? = nil, backoffNs: UInt64? = nil,
                     done: @escaping (StorageError?) -> Void) {
        let config = context.server.config.segmentWriter
        let deadline = deadlineNs ?? EventLoop.monotonicNowNs &+ UInt64(timeoutNs)
        let backoff = backoffNs ?? UInt64(config.uploadRetryMinPeriodNs)
        store.put(path, bytes) { [self] result in
            guard case .failure(let error) = result else { return done(nil) }
            guard attempt < (attemptsMax ?? max(1, config.uploadMaxRetries)), EventLoop.monotonicNowNs &+ backoff < deadline else {
                return done(error)
            }
            context.loop.scheduleTimer(afterMs: max(1, backoff / 1_000_000)) { [self] _ in
                put(path, bytes, timeoutNs: timeoutNs, attemptsMax: attemptsMax, attempt: attempt + 1, deadlineNs: deadline,
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
    var lastError: StorageError?
    var hedgeTimer: TimerID?
}

func seconds(since startNs: UInt64) -> Double {
    Double(EventLoop.monotonicNowNs &- startNs) / 1e9
}
