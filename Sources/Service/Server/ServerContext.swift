import BinaryCoding
import GRPC
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What every loop and the upload workers share: configuration, lifecycle, metrics, the
/// memory budget, the per-loop contexts, and the counters the graceful drain waits on.
final class ServerContext: Sendable {
    let config: SegmentWriterConfig
    let log: Log
    let readiness: Readiness
    let metrics: SegmentWriterMetrics
    let budget: MemoryBudget
    let hostname: ByteString
    /// Push calls opened and not yet answered (any outcome).
    let pushesInFlight = Atomic<Int>(0)
    /// Flushed segments handed to the uploader and not yet finished.
    let uploadsInFlight = Atomic<Int>(0)
    /// Set once, before the loops start.
    nonisolated(unsafe) private(set) var loops: [LoopContext] = []
    nonisolated(unsafe) private(set) var uploader: SegmentUploader!

    init(config: SegmentWriterConfig, log: Log, readiness: Readiness, metrics: SegmentWriterMetrics, hostname: ByteString) {
        self.config = config
        self.log = log
        self.readiness = readiness
        self.metrics = metrics
        self.budget = MemoryBudget(bytesMax: config.segmentWriter.memoryBudgetBytes)
        self.hostname = hostname
    }

    func install(loops: [LoopContext], uploader: SegmentUploader) {
        self.loops = loops
        self.uploader = uploader
    }

    func submit(_ upload: SegmentUpload) {
        uploadsInFlight.add(1, ordering: .sequentiallyConsistent)
        uploader.submit(upload)
    }

    func uploadFinished() {
        uploadsInFlight.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Answers `acks` with `status` on the loops that own their connections, one batch per
    /// loop. From a worker thread: retries a full inbox (never drops an answer while the
    /// loop runs). From a loop: see `LoopContext.deliver`.
    func release(_ acks: [PendingAck], status: GRPCStatus) {
        for (loopIndex, batch) in Self.byLoop(acks, loopCount: loops.count, loop: \.connection.loopIndex) {
            let target = loops[loopIndex]
            var waitedUs: UInt32 = 0
            while !target.acks.post(AckBatch(acks: batch, status: status)) {
                guard waitedUs < 10_000_000, readiness.state != .stopped else {
                    log.error("acknowledgements dropped: loop inbox stays full or loop stopped",
                              ["loop": String(loopIndex), "count": String(batch.count)])
                    break
                }
                usleep(1000)
                waitedUs += 1000
            }
        }
    }

    /// `items` split by owning loop, in loop order; one pass, no copy when all share a loop.
    static func byLoop<T>(_ items: [T], loopCount: Int, loop: (T) -> Int) -> [(Int, [T])] {
        if let first = items.first, items.allSatisfy({ loop($0) == loop(first) }) {
            return [(loop(first), items)]
        }
        var groups = Array(repeating: [T](), count: loopCount)
        for item in items { groups[loop(item)].append(item) }
        return groups.enumerated().filter { !$0.element.isEmpty }.map { ($0.offset, $0.element) }
    }
}
