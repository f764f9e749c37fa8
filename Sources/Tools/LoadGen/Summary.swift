import Histogram

/// What `--json` prints: the run, and the closed-loop calibration run before it when the
/// rate was given as a fraction of the maximum.
public struct LoadReport: Codable, Sendable {
    public var run: RunSummary
    public var calibration: RunSummary?
    public var rateFraction: Double?
    /// `--audit`: the bucket read back after the server stopped (both runs' pushes).
    public var audit: DurabilityAudit?

    public init(run: RunSummary, calibration: RunSummary? = nil, rateFraction: Double? = nil, audit: DurabilityAudit? = nil) {
        self.run = run
        self.calibration = calibration
        self.rateFraction = rateFraction
        self.audit = audit
    }
}

public struct RunSummary: Codable, Sendable {
    public struct Throughput: Codable, Sendable {
        /// OK acknowledgements that arrived inside the measurement window.
        public var ackedProfiles: Int
        public var profilesPerSec: Double
        /// The `profile` field as sent (gzip when compression is gzip), MB = 10^6 bytes.
        public var compressedMBps: Double
        /// The raw pprof bytes those profiles decode to.
        public var decompressedMBps: Double
        public var compressedBytes: Int
        public var decompressedBytes: Int
        /// Pushes sent inside the window.
        public var startedPushes: Int
    }

    /// Acknowledgement latency of the OK pushes started inside the window, from the HDR histogram.
    public struct Latency: Codable, Sendable {
        public var count: Int
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var p999: Double
        public var max: Double
        public var mean: Double

        public init(_ h: Histogram<UInt64>) {
            count = Int(h.totalCount)
            let ms = { (v: UInt64) in Double(v) / 1000 }
            let empty = h.totalCount == 0
            p50 = empty ? 0 : ms(h.valueAtPercentile(50))
            p90 = empty ? 0 : ms(h.valueAtPercentile(90))
            p99 = empty ? 0 : ms(h.valueAtPercentile(99))
            p999 = empty ? 0 : ms(h.valueAtPercentile(99.9))
            max = empty ? 0 : ms(h.max)
            mean = empty ? 0 : h.mean / 1000
        }
    }

    public struct Errors: Codable, Sendable {
        public var total: Int
        public var byStatus: [String: Int]
        /// The first message seen per status.
        public var messages: [String: String]
        /// Started in the window, not answered before the drain deadline.
        public var unanswered: Int
        public var reconnects: Int
    }

    /// The spawned server's memory and CPU, sampled every second.
    public struct ServerUsage: Codable, Sendable {
        public var pid: Int32
        public var samples: Int
        public var rssMinBytes: Int
        public var rssMaxBytes: Int
        public var rssLastBytes: Int
        /// The first sample of the run (warm-up included): `rssLastBytes - rssFirstBytes` is
        /// the growth over the whole run.
        public var rssFirstBytes: Int
        /// Last minus first sample inside the measurement window.
        public var rssGrowthBytes: Int
        /// CPU seconds used in the window / window seconds (2.0 = two cores busy).
        public var cpuCores: Double
        public var cpuSeconds: Double
    }

    /// One point of the percentile distribution (plot and JSON).
    public struct PercentilePoint: Codable, Sendable, Equatable {
        public var percentile: Double
        public var latencyMs: Double
    }

    public var mode: String
    public var targetPushesPerSec: Double?
    public var connections: Int
    public var streamsPerConnection: Int
    public var clientLoops: Int
    public var warmupSeconds: Double
    public var durationSeconds: Double
    public var workload: WorkloadShape
    public var corpusFiles: [String]
    public var corpusSkipped: [String]
    public var throughput: Throughput
    public var latencyMs: Latency
    public var errors: Errors
    public var server: ServerUsage?
    /// loadgen's own CPU in the window (all threads), to show the client is not the limit.
    public var clientCpuCores: Double
    public var objects: ObjectCensus?
    /// Longest time the once-per-second corpus refresh (re-encode with the current time,
    /// gzip) took on the main thread.
    public var payloadRefreshMaxMs: Double
    public var intervals: [IntervalSummary]
    public var distribution: [PercentilePoint]

    /// The percentile distribution as HdrHistogram plots it: 5 ticks per half distance.
    static func distribution(_ h: Histogram<UInt64>) -> [PercentilePoint] {
        guard h.totalCount > 0 else { return [] }
        var points: [PercentilePoint] = []
        for v in h.percentiles(ticksPerHalfDistance: 5) {
            points.append(PercentilePoint(percentile: v.percentileLevelIteratedTo, latencyMs: Double(v.value) / 1000))
        }
        return points
    }

    static func serverUsage(pid: Int32, samples: [ResourceSample], clock: RunClock) -> ServerUsage? {
        guard let last = samples.last else { return nil }
        let window = samples.filter { $0.monotonicNs >= clock.measureStartNs && $0.monotonicNs <= clock.measureEndNs }
        let first = window.first ?? samples[0], end = window.last ?? last
        let seconds = Double(end.monotonicNs &- first.monotonicNs) / 1e9
        return ServerUsage(pid: pid, samples: samples.count, rssMinBytes: samples.map(\.rssBytes).min()!,
                           rssMaxBytes: samples.map(\.rssBytes).max()!, rssLastBytes: last.rssBytes, rssFirstBytes: samples[0].rssBytes,
                           rssGrowthBytes: end.rssBytes - first.rssBytes,
                           cpuCores: seconds > 0 ? (end.cpuSeconds - first.cpuSeconds) / seconds : 0,
                           cpuSeconds: end.cpuSeconds - first.cpuSeconds)
    }
}
