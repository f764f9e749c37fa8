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
///    `-segment-writer.upload-timeout`, with one hedged second upload started
///    `-segment-writer.upload-hedge-after` in unless the first succeeded (first success wins);
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
    /// Uploads started and not yet ended (answered, every attempt over): each holds timers
    /// until then, so at most `LoopTimerBudget.uploadsMax` run. The others wait here, holding
    /// no timers; their bytes are charged to the memory budget, which refuses Pushes once full.
    private var running = 0
    private var waiting = WaitingUploads()
    private var startingWaiting = false

    init(context: LoopContext, store: any ObjectStore) {
        self.context = context
        self.store = store
        let server = context.server
        if server.metastoreEndpoints.isEmpty {
            metastore = nil
        } else {
            var configuration = MetastoreClientConfiguration(endpoints: server.metastoreEndpoints)
            // Upstream: 0 sets no deadline of its own; the client's still ends the call.
            let timeoutNs = UInt64(server.config.segmentWriter.metadataUpdateTimeoutNs)
            configuration.timeoutNs = timeoutNs > 0 ? min(max(1_000_000, timeoutNs), MetastoreClientConfiguration.timeoutNsMax)
                                                    : MetastoreClientConfiguration.timeoutNsMax
            configuration.connectTimeoutNs = Self.metastoreConnectTimeoutNs(server.config.metastore.connectTimeoutNs)
            configuration.tls = server.metastoreTLS
            metastore = MetastoreClient(loop: context.loop, configuration: configuration)
        }
    }

    func upload(_ job: SegmentUpload) {
        context.server.uploadsInFlight.add(1, ordering: .sequentiallyConsistent)
        guard running < LoopTimerBudget.uploadsMax else { return waiting.append(job) }
        start(job)
    }

    private func start(_ job: SegmentUpload) {
        running += 1
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
            let deadlineNs = Self.deadlineNs(afterNs: config.metadataUpdateTimeoutNs)
            put(ObjectPath.metadataDLQ(job.meta), job.meta.dlqObject(), deadlineNs: deadlineNs, attemptsMax: primaryAttemptsMax) { error in
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

    /// The block upload and its hedge (ingest-and-ops.md §1.4), as upstream's `retry.Hedged`
    /// (FailFast false) runs them: the primary's attempts; after `-segment-writer.upload-hedge-after`,
    /// whatever became of the primary meanwhile, the hedge (once the hedge rate limit grants it),
    /// whose attempts go on until the upload timeout. `done` runs once: with nil at the first
    /// success, with the last error once both failed (or the hedge could not start after the
    /// primary failed), or at the upload timeout. Once `done` ran, attempts still running are
    /// cancelled (the store closes their connections; a late success cannot land an object
    /// answered UNKNOWN, and a losing hedge stops sending).
    private func putBlock(_ job: SegmentUpload, _ race: UploadRace, done: @escaping (StorageError?) -> Void) {
        let server = context.server
        let config = server.config.segmentWriter
        let path = ObjectPath.dataObject(job.meta)
        let startNs = EventLoop.monotonicNowNs
        let deadlineNs = Self.deadlineNs(afterNs: config.uploadTimeoutNs)
        func end(_ error: StorageError?) {
            settleRace(race, path)
            server.metrics.uploadDuration(success: error == nil).record(seconds(since: startNs))
            done(error)
        }
        func attemptEnded(_ error: StorageError?, hedged: Bool) {
            if hedged { race.hedgeRunning = false } else { race.primaryRunning = false }
            releaseWhenEnded(job, race)
            guard !race.settled else { return }
            if let error {
                race.lastError = error
                guard !race.primaryRunning, !race.hedgeRunning, !race.hedgeExpected else { return }  // the other may still win
            }
            end(error)
        }
        func startHedge() {
            race.hedgeExpected = false
            race.hedgeRunning = true
            let hedgeStartNs = EventLoop.monotonicNowNs
            put(path, job.object, deadlineNs: deadlineNs, attemptsMax: nil, race: race) { error in
                server.metrics.hedgedUploadDuration(success: error == nil).record(seconds(since: hedgeStartNs))
                attemptEnded(error, hedged: true)
            }
        }
        put(path, job.object, deadlineNs: deadlineNs, attemptsMax: primaryAttemptsMax, race: race) { attemptEnded($0, hedged: false) }
        // A request still in flight at the upload timeout (a store that takes the PUT and never
        // answers; S3's I/O timeout is longer) no longer holds the answer (§1.4: the timeout
        // bounds the whole upload): it is cancelled, and the answer is UNKNOWN.
        if deadlineNs != nil {
            let timeoutMs = UInt64(max(1, config.uploadTimeoutNs / 1_000_000))
            race.deadlineTimer = context.loop.scheduleTimer(afterMs: timeoutMs) { _ in
                race.deadlineTimer = nil
                guard !race.settled else { return }
                end(race.lastError ?? .transport("no answer within the upload timeout (\(timeoutMs) ms)"))
            }
        }
        // Upstream's trigger fires after hedge-after (at once for 0), and a hedge due after the
        // timeout never starts.
        guard deadlineNs == nil || config.uploadHedgeAfterNs < config.uploadTimeoutNs else { return }
        race.hedgeExpected = true
        race.hedgeTimer = context.loop.scheduleTimer(afterMs: UInt64(config.uploadHedgeAfterNs / 1_000_000)) { [self] _ in
            race.hedgeTimer = nil
            guard !race.settled else { return }
            // `Limiter.Wait`: the hedge waits for its token, unless it would come after the deadline.
            let nowNs = EventLoop.monotonicNowNs
            let waitNsMax = deadlineNs.map { $0 &- min($0, nowNs) } ?? .max
            guard let waitNs = server.hedgeLimiter.reserve(nowNs: nowNs, waitNsMax: waitNsMax) else {
                race.hedgeExpected = false
                guard race.primaryRunning else { return end(race.lastError) }
                return
            }
            guard waitNs > 0 else { return startHedge() }
            race.hedgeTimer = context.loop.scheduleTimer(afterMs: max(1, (waitNs + 999_999) / 1_000_000)) { _ in
                race.hedgeTimer = nil
                if !race.settled { startHedge() }
            }
        }
    }

    /// dskit's `connect-timeout`: 0 leaves grpc-go's own connect timeout, 20 s (its
    /// `MinConnectTimeout`), not none and not the 1 ms a literal reading would give.
    static func metastoreConnectTimeoutNs(_ configuredNs: Int64) -> UInt64 {
        configuredNs > 0 ? UInt64(max(1_000_000, configuredNs)) : 20_000_000_000
    }

    /// `-segment-writer.upload-timeout` and `-segment-writer.metadata-update-timeout` from now;
    /// nil for 0, which upstream takes as no timeout.
    private static func deadlineNs(afterNs timeoutNs: Int64) -> UInt64? {
        timeoutNs > 0 ? EventLoop.monotonicNowNs &+ UInt64(timeoutNs) : nil
    }

    /// `-segment-writer.upload-max-retries` attempts of a primary upload; 0 is no limit (dskit's
    /// `MaxRetries`), the upload timeout still ends them.
    private var primaryAttemptsMax: Int? {
        let retries = context.server.config.segmentWriter.uploadMaxRetries
        return retries > 0 ? retries : nil
    }

    /// The race has its outcome: stop its timers, and cancel the attempts still running (no
    /// retry starts after this; their completions still arrive and end them).
    private func settleRace(_ race: UploadRace, _ path: String) {
        race.settled = true
        if let timer = race.hedgeTimer { context.loop.cancelTimer(timer) }
        if let timer = race.deadlineTimer { context.loop.cancelTimer(timer) }
        race.hedgeTimer = nil
        race.deadlineTimer = nil
        race.hedgeExpected = false
        race.cancelled = true
        if race.primaryRunning || race.hedgeRunning { store.cancelPuts(path) }
    }

    /// The segment's bytes stay charged to the memory budget until it is answered and every
    /// attempt to store them has ended (for a cancelled put: once the store confirmed it).
    private func releaseWhenEnded(_ job: SegmentUpload, _ race: UploadRace) {
        guard race.answered, !race.primaryRunning, !race.hedgeRunning, !race.released else { return }
        race.released = true
        context.server.budget.release(job.object.count)
        running -= 1
        // A loop, not recursion: an upload a synchronous store ends inside `start` comes back here.
        guard !startingWaiting else { return }
        startingWaiting = true
        while running < LoopTimerBudget.uploadsMax, let next = waiting.next() { start(next) }
        startingWaiting = false
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

    /// Puts `bytes` until one attempt succeeds, `attemptsMax` ran (nil: no limit), the next
    /// delay would end past `deadlineNs` (nil: none), or `race` was cancelled; between attempts the
    /// jittered delays of dskit's backoff between the min and max retry periods (§5.1).
    private func put(_ path: String, _ bytes: [UInt8], deadlineNs: UInt64?, attemptsMax: Int?, race: UploadRace? = nil,
                     done: @escaping (StorageError?) -> Void) {
        let config = context.server.config.segmentWriter
        var backoff = RetryBackoff(minNs: UInt64(config.uploadRetryMinPeriodNs), maxNs: UInt64(config.uploadRetryMaxPeriodNs))
        var random = SystemRandomNumberGenerator()
        var attempts = 0
        func attempt() {
            attempts += 1
            store.put(path, bytes) { [self] result in
                guard case .failure(let error) = result else { return done(nil) }
                let delayNs = backoff.nextDelayNs(using: &random)
                guard race?.cancelled != true, attempts < attemptsMax ?? .max,
                      EventLoop.monotonicNowNs &+ delayNs < deadlineNs ?? .max else {
                    return done(error)
                }
                context.loop.scheduleTimer(afterMs: max(1, delayNs / 1_000_000)) { _ in
                    guard race?.cancelled != true else { return done(.cancelled) }
                    attempt()
                }
            }
        }
        attempt()
    }
}

/// The state one block upload and its hedge share (loop-confined).
private final class UploadRace {
    var primaryRunning = true
    var hedgeRunning = false
    /// The hedge's trigger, or its wait for a token, is still to come.
    var hedgeExpected = false
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

/// Segments waiting for an upload slot, first in first out; a started one's slot is cleared at
/// once, so its bytes are freed when its upload ends.
private struct WaitingUploads {
    private var jobs: [SegmentUpload?] = []
    private var head = 0

    mutating func append(_ job: SegmentUpload) { jobs.append(job) }

    mutating func next() -> SegmentUpload? {
        guard head < jobs.count else { return nil }
        defer {
            jobs[head] = nil
            head += 1
            if head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
        }
        return jobs[head]
    }
}

func seconds(since startNs: UInt64) -> Double {
    Double(EventLoop.monotonicNowNs &- startNs) / 1e9
}
