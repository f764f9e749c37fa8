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
/// inside `-segment-writer.upload-timeout`; then the metadata. **Seam:** no metastore client
/// exists yet, so the metadata always goes to `dlq/{shard}/anonymous/{ULID}/meta.pb`
/// (segment-object.md §10.5, §12), which Pyroscope's metastore recovers. Not done: the hedged
/// second upload. Loop-confined; completions arrive on the loop.
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
        let uploadStartNs = EventLoop.monotonicNowNs
        put(ObjectPath.dataObject(job.meta), job.object, timeoutNs: config.uploadTimeoutNs) { [self] blockError in
            server.metrics.uploadDuration(success: blockError == nil).record(seconds(since: uploadStartNs))
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
    private func put(_ path: String, _ bytes: [UInt8], timeoutNs: Int64,
                     attempt: Int = 1, deadlineNs: UInt64? = nil, backoffNs: UInt64? = nil,
                     done: @escaping (StorageError?) -> Void) {
        let config = context.server.config.segmentWriter
        let deadline = deadlineNs ?? EventLoop.monotonicNowNs &+ UInt64(timeoutNs)
        let backoff = backoffNs ?? UInt64(config.uploadRetryMinPeriodNs)
        store.put(path, bytes) { [self] result in
            guard case .failure(let error) = result else { return done(nil) }
            guard attempt < max(1, config.uploadMaxRetries), EventLoop.monotonicNowNs &+ backoff < deadline else {
                return done(error)
            }
            context.loop.scheduleTimer(afterMs: max(1, backoff / 1_000_000)) { [self] _ in
                put(path, bytes, timeoutNs: timeoutNs, attempt: attempt + 1, deadlineNs: deadline,
                    backoffNs: min(backoff * 2, UInt64(config.uploadRetryMaxPeriodNs)), done: done)
            }
        }
    }
}

func seconds(since startNs: UInt64) -> Double {
    Double(EventLoop.monotonicNowNs &- startNs) / 1e9
}
