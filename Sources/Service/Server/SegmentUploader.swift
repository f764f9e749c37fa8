import BinaryCoding
import GRPC
import ObjectStorage
import Runtime
import SegmentObject
#if canImport(Glibc)
import Glibc
#endif

/// One flushed segment on its way to object storage, with the Pushes it will answer.
struct SegmentUpload: Sendable {
    let shard: UInt32
    let meta: BlockMeta
    let object: [UInt8]
    let acks: [PendingAck]
    /// Monotonic time the flush started (for the flush duration metric).
    let flushStartNs: UInt64
}

/// Makes a flushed segment durable and only then answers its Pushes (ingest-and-ops.md §1.4):
/// `segments/{shard}/anonymous/{ULID}/block.bin`, then the metadata. **Seam:** no metastore
/// client exists yet, so the metadata always goes to the DLQ path
/// `dlq/{shard}/anonymous/{ULID}/meta.pb` (segment-object.md §10.5, §12), which Pyroscope's
/// metastore recovers; the store is the blocking `FilesystemObjectStore` driven from a few
/// worker threads, until an io_uring/S3 uploader on the loops replaces this type.
final class SegmentUploader: Sendable {
    private let queue: WorkQueue<SegmentUpload>

    init(context: ServerContext, store: any ObjectStore, threads: Int) {
        let worker = UploadWorker(context: context, store: store)
        queue = WorkQueue(threads: threads) { worker.upload($0) }
    }

    func submit(_ upload: SegmentUpload) { queue.submit(upload) }

    /// Finishes queued uploads, then ends the threads.
    func stop() { queue.stop() }
}

/// The work of one upload, on a worker thread. `@unchecked Sendable`: the blocking stores
/// hold only immutable configuration, so concurrent puts from the workers are safe.
private struct UploadWorker: @unchecked Sendable {
    let context: ServerContext
    let store: any ObjectStore

    func upload(_ job: SegmentUpload) {
        let id = String(decoding: job.meta.id.bytes, as: UTF8.self)
        let config = context.config.segmentWriter
        var status = GRPCStatus.ok
        let uploadStartNs = EventLoop.monotonicNowNs
        let blockResult = putWithRetries(ObjectPath.dataObject(job.meta), job.object, timeoutNs: UInt64(config.uploadTimeoutNs))
        context.metrics.uploadDuration(success: blockResult == nil).record(seconds(since: uploadStartNs))
        if let error = blockResult {
            status = GRPCStatus(.unknown, ByteString("failed to upload block \(id): \(error)"))
        } else {
            let metaResult = putWithRetries(ObjectPath.metadataDLQ(job.meta), job.meta.dlqObject(),
                                            timeoutNs: UInt64(config.metadataUpdateTimeoutNs))
            context.metrics.storeMetadataDLQ(success: metaResult == nil).increment()
            if let error = metaResult {
                status = GRPCStatus(.unknown, ByteString("failed to store meta \(id): \(error)"))
            }
        }
        if status == .ok {
            context.metrics.segmentSize(shard: job.shard).record(Double(job.object.count))
            context.log.debug("segment flushed", ["shard": String(job.shard), "block": id,
                                                  "bytes": String(job.object.count), "pushes": String(job.acks.count)])
        } else {
            context.log.error("segment flush failed", ["shard": String(job.shard), "block": id, "err": "\(status.message)"])
        }
        context.metrics.flushDuration(shard: job.shard).record(seconds(since: job.flushStartNs))
        context.budget.release(job.object.count)
        context.release(job.acks, status: status)
        context.uploadFinished()
    }

    /// Up to `-segment-writer.upload-max-retries` attempts with doubling backoff between the
    /// min and max retry periods, all within `timeoutNs` (dskit backoff semantics, §5.1).
    private func putWithRetries(_ path: String, _ bytes: [UInt8], timeoutNs: UInt64) -> StorageError? {
        let config = context.config.segmentWriter
        let deadlineNs = EventLoop.monotonicNowNs &+ timeoutNs
        var backoffNs = UInt64(config.uploadRetryMinPeriodNs)
        var attempt = 0
        while true {
            attempt += 1
            var outcome: Result<Void, StorageError>?
            store.put(path, bytes) { outcome = $0 }
            guard case .failure(let error)? = outcome else { return nil }
            let nowNs = EventLoop.monotonicNowNs
            guard attempt < max(1, config.uploadMaxRetries), nowNs &+ backoffNs < deadlineNs else { return error }
            usleep(UInt32(min(backoffNs / 1000, 10_000_000)))
            backoffNs = min(backoffNs * 2, UInt64(config.uploadRetryMaxPeriodNs))
        }
    }
}

func seconds(since startNs: UInt64) -> Double {
    Double(EventLoop.monotonicNowNs &- startNs) / 1e9
}
