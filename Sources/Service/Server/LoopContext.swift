import Accumulator
import BinaryCoding
import GRPC
import ObjectStorage
import Pprof
import Runtime

/// A Push received on one loop for a shard owned by another: the message copied once, and
/// where its answer goes.
struct PushJob: Sendable {
    let message: [UInt8]
    let ack: PendingAck
}

/// Everything one event loop owns above the runtime: its shards, its gRPC connections, and
/// the two typed inboxes other threads reach it through (Pushes for its shards, answers for
/// its connections). `@unchecked Sendable`: created before the loops start; afterwards every
/// member except the inboxes is touched only on `loop`'s thread.
final class LoopContext: @unchecked Sendable {
    unowned let server: ServerContext
    let loop: EventLoop
    private(set) var pushes: Inbox<PushJob>!
    private(set) var acks: Inbox<AckBatch>!
    private(set) var uploader: SegmentUploader!
    private var handlers: [ConnectionID: GRPCConnectionHandler] = [:]
    private var shards: [UInt32: ShardHead] = [:]
    /// A new shard's accumulator that its first Push was refused into as invalid (left
    /// unchanged), kept for the next new shard: invalid Pushes do not reserve address space anew.
    private var spareAccumulator: ShardAccumulator?
    private let shardsExhausted: GRPCStatus
    private let limits: AccumulatorLimits
    /// Inflater, decoder and scratch of this loop's pushes, shared by all its shards.
    private let workspace: IngestWorkspace
    /// Answers to other loops that a full inbox refused; re-posted by a short timer.
    private var undelivered: [(loop: Int, batch: AckBatch)] = []
    private var retryScheduled = false
    /// Handlers with output written by `complete`, flushed once per batch.
    private var touched: [GRPCConnectionHandler] = []
    var metricCache = LoopMetricCache()

    /// Before the loops start (inboxes and the ring-driven store are set up off-thread then).
    init(server: ServerContext, loop: EventLoop, inboxCapacity: Int, store: any ObjectStore) {
        self.server = server
        self.loop = loop
        let config = server.config
        limits = config.accumulatorLimits
        workspace = IngestWorkspace(profileBytesMax: limits.profileBytesMax)
        shardsExhausted = GRPCStatus(.resourceExhausted, ByteString(
            "segment-writer: this writer holds -segment-writer.max-shards=\(config.segmentWriter.shardsMax) shards; no new one is made"))
        pushes = Inbox(loop: loop, capacity: inboxCapacity) { [unowned self] job in self.ingestForwarded(job) }
        acks = Inbox(loop: loop, capacity: inboxCapacity) { [unowned self] batch in self.complete(batch) }
        uploader = SegmentUploader(context: self, store: store)
    }

    // MARK: Connections

    func register(_ handler: GRPCConnectionHandler, _ id: ConnectionID) { handlers[id] = handler }
    func unregister(_ id: ConnectionID) { handlers[id] = nil }

    /// Health turned NOT_SERVING (the ring grace or the drain began): watchers hear it.
    func announceNotServing() {
        for handler in handlers.values { handler.servingStopped() }
    }

    /// Graceful shutdown: every gRPC connection gets GOAWAY.
    func goAwayAll() {
        for handler in handlers.values { handler.goAway() }
    }

    /// Answers parked calls of this loop's connections; calls already ended (deadline,
    /// cancel, closed connection) are skipped.
    func complete(_ batch: AckBatch) {
        for ack in batch.acks {
            guard let handler = handlers[ack.connection] else { continue }
            if handler.complete(ack.call, status: batch.status) && !handler.outputPending {
                handler.outputPending = true
                touched.append(handler)
            }
        }
        for handler in touched { handler.flushOutput() }
        touched.removeAll(keepingCapacity: true)
    }

    // MARK: Shards

    /// A shard made for a first Push that `accumulator` took.
    private func makeShard(_ id: UInt32, _ accumulator: ShardAccumulator) -> ShardHead {
        // Shards a load spreads evenly are created within milliseconds of each other, and
        // their tickers would fire together: the loop would encode their segments back to back
        // while the first one's upload and acknowledgements wait. Each new shard's flushes are
        // offset by the golden-ratio sequence (0, .618, .236, .854, …, evenly spread for any
        // count); a segment still spans one period.
        let phase = (Double(shards.count) * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1)
        let head = ShardHead(shard: id, context: self, accumulator: accumulator, phase: phase)
        shards[id] = head
        return head
    }

    /// The final flush of the drain (§5.5 step 6); the tickers keep running for stragglers.
    func flushAllShards() {
        for head in shards.values { head.flush() }
    }

    /// A Push whose shard this loop owns, ingested here. A new shard is made only once its
    /// first Push was taken, within `-segment-writer.max-shards`: a refused one leaves nothing
    /// behind (no ticker, arena or metric series), so shard values a peer makes up cannot grow
    /// the process past that bound.
    func ingest(_ push: PushRequestView, ack: PendingAck) -> IngestOutcome {
        precondition(Int(push.shard % UInt32(server.loops.count)) == loop.index, "shard ingested off its owner loop")
        if let head = shards[push.shard] { return head.ingest(push, ack: ack) }
        guard server.shards.tryTake() else { return .refused(shardsExhausted) }
        let accumulator = spareAccumulator ?? ShardAccumulator(limits: limits, workspace: workspace)
        spareAccumulator = nil
        do throws(PushError) {
            let taken = try ShardHead.take(push, into: accumulator)
            return makeShard(push.shard, accumulator).park(push, taken, ack: ack)
        } catch {
            // Not one refused for want of room: its address space may not have been reserved.
            if GRPCStatus(error).code != .resourceExhausted { spareAccumulator = accumulator }
            server.shards.giveBack()
            return .refused(GRPCStatus(error))
        }
    }

    private func ingestForwarded(_ job: PushJob) {
        defer { server.budget.release(job.message.count) }
        let refusal: GRPCStatus? = job.message.withUnsafeBytes { raw -> GRPCStatus? in
            do throws(PushError) {
                let push = try PushRequestView(raw, maxMessageBytes: server.config.server.grpcMaxRecvMsgSizeBytes)
                if case .refused(let status) = ingest(push, ack: job.ack) { return status }
                return nil
            } catch {
                return GRPCStatus(error)
            }
        }
        if let refusal { deliver(AckBatch(acks: [job.ack], status: refusal), to: job.ack.connection.loopIndex) }
    }

    /// Answers parked Pushes from this loop: its own connections at once, the others' through
    /// their loops' inboxes, one batch per loop.
    func answer(_ acks: [PendingAck], status: GRPCStatus) {
        for (index, batch) in ServerContext.byLoop(acks, loopCount: server.loops.count, loop: \.connection.loopIndex) {
            if index == loop.index {
                complete(AckBatch(acks: batch, status: status))
            } else {
                deliver(AckBatch(acks: batch, status: status), to: index)
            }
        }
    }

    /// Posts an answer batch to another loop; a full inbox defers it to a retry timer
    /// (a loop never blocks on another loop).
    private func deliver(_ batch: AckBatch, to loopIndex: Int) {
        if server.loops[loopIndex].acks.post(batch) { return }
        undelivered.append((loopIndex, batch))
        scheduleRetry()
    }

    private func scheduleRetry() {
        guard !retryScheduled else { return }
        retryScheduled = true
        loop.scheduleTimer(afterMs: 2) { [unowned self] _ in
            retryScheduled = false
            let pending = undelivered
            undelivered.removeAll(keepingCapacity: true)
            for (index, batch) in pending { deliver(batch, to: index) }
        }
    }
}
