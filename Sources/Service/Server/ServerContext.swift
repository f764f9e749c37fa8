import BinaryCoding
import GRPC
import Metastore
import Prometheus
import Runtime
import Synchronization

/// What every loop and the upload workers share: configuration, lifecycle, metrics, the
/// memory budget, the per-loop contexts, and the counters the graceful drain waits on.
final class ServerContext: Sendable {
    let config: SegmentWriterConfig
    let log: Log
    let readiness: Readiness
    let metrics: SegmentWriterMetrics
    let budget: MemoryBudget
    let hostname: ByteString
    let hedgeLimiter: TokenBucket
    let shards: ShardSlots
    /// `-metastore.address`'s nodes with their start-up addresses (each loop's `MetastoreClient`
    /// dials these and resolves them again); empty when unset: metadata goes to the DLQ path.
    let metastoreEndpoints: [MetastoreEndpoint]
    /// TLS to those nodes (one context for every loop); nil: h2c.
    let metastoreTLS: MetastoreTLS?
    /// Push calls opened and not yet answered (any outcome).
    let pushesInFlight = Atomic<Int>(0)
    /// Flushed segments handed to an uploader and not yet finished.
    let uploadsInFlight = Atomic<Int>(0)
    /// dskit's `tcp_connections{protocol="grpc"}`.
    let grpcConnections: Gauge
    /// Set once, before the loops start.
    nonisolated(unsafe) private(set) var loops: [LoopContext] = []

    init(config: SegmentWriterConfig, log: Log, readiness: Readiness, metrics: SegmentWriterMetrics, hostname: ByteString,
         metastoreEndpoints: [MetastoreEndpoint] = [], metastoreTLS: MetastoreTLS? = nil) {
        self.config = config
        self.log = log
        self.readiness = readiness
        self.metrics = metrics
        self.budget = MemoryBudget(bytesMax: config.segmentWriter.memoryBudgetBytes)
        self.hostname = hostname
        self.metastoreEndpoints = metastoreEndpoints
        self.metastoreTLS = metastoreTLS
        grpcConnections = metrics.tcpConnections(protocol: "grpc")
        let (limit, used) = metrics.memoryBudget()
        limit.set(to: Double(config.segmentWriter.memoryBudgetBytes))
        metrics.refreshOnScrape { [budget] in used.set(to: Double(budget.usedBytes)) }
        shards = ShardSlots(max: config.segmentWriter.shardsMax)
        hedgeLimiter = TokenBucket(ratePerSecond: config.segmentWriter.uploadHedgeRateMax,
                                   burst: config.segmentWriter.uploadHedgeRateBurst, nowNs: EventLoop.monotonicNowNs)
    }

    func install(loops: [LoopContext]) {
        self.loops = loops
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

/// `-segment-writer.max-shards` across the loops: a slot is taken for a new shard's first Push,
/// given back if that Push is refused, else kept (shards are never removed). Two loops racing
/// for the last slot may both be refused; their clients retry.
final class ShardSlots: Sendable {
    let max: Int
    private let taken = Atomic<Int>(0)

    init(max: Int) { self.max = max }

    func tryTake() -> Bool {
        guard taken.add(1, ordering: .relaxed).newValue > max else { return true }
        giveBack()
        return false
    }

    func giveBack() { taken.subtract(1, ordering: .relaxed) }
}
