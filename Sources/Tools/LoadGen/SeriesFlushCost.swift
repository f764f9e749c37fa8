import Accumulator
import BinaryCoding
import Foundation
import Pprof
import Runtime

/// What a flush costs per series: one Push whose profile makes `series` series, ingested into
/// one `ShardAccumulator` and flushed into a segment object on this thread, as a loop does.
/// Two shapes of high cardinality: one sample with `series` sample types (each type string its
/// own series), or `series` samples each with its own `request_id` label value. The object is
/// the same bytes on every run (fixed segment id, profile id and times), so its XXH64 tells
/// whether a change to the flush changed the object.
public struct SeriesFlushCost {
    public enum Shape: String, CaseIterable, Sendable {
        /// One sample, `series` sample types named `t0`, `t1`, ….
        case sampleTypes = "types"
        /// `series` samples, each with `request_id` = its own value, one sample type.
        case labelValues = "labels"
    }

    public let series: Int
    public let shape: Shape
    /// The `PushRequest` (profile raw, as distributors forward it).
    let message: [UInt8]

    public init(series: Int, shape: Shape) {
        precondition(series > 0, "at least one series")
        self.series = series
        self.shape = shape
        let profile = PprofEncoder.encode(Self.profile(series: series, shape: shape))
        message = PushRequestMessage(tenantID: "anonymous", labels: [("__name__", "process_cpu"), ("service_name", "series-flush")],
                                     profile: profile, profileID: Array(0 ..< 16), shard: 1).encode()
    }

    static func profile(series: Int, shape: Shape) -> PprofProfile {
        var p = PprofProfile()
        p.stringTable = ["", "f", "count", "request_id"]
        var m = MappingRecord()
        m.id = 1
        p.mappings = [m]
        var f = FunctionRecord()
        f.id = 1
        f.name = 1
        p.functions = [f]
        p.locations = [.init(id: 1, mappingID: 1, lines: [LineRecord(functionID: 1)])]
        p.timeNanos = 1_700_000_000_000_000_000
        switch shape {
        case .sampleTypes:
            let first = Int64(p.stringTable.count)
            p.stringTable += (0 ..< series).map { ByteString("t\($0)") }
            p.sampleTypes = (0 ..< Int64(series)).map { ValueTypeRef(type: first + $0, unit: 2) }
            p.samples = [.init(locationIDs: [1], values: Array(repeating: 1, count: series))]
        case .labelValues:
            let first = Int64(p.stringTable.count)
            p.stringTable += (0 ..< series).map { ByteString("r\($0)") }
            p.sampleTypes = [ValueTypeRef(type: 2, unit: 2)]
            p.samples = (0 ..< Int64(series)).map {
                .init(locationIDs: [1], values: [1], labels: [SampleLabel(key: 3, str: first + $0)])
            }
        }
        return p
    }

    public struct Report: Codable, Sendable {
        public var shape: String
        public var series: Int
        public var objectBytes: Int
        /// XXH64 of the object, hex: equal across builds ⇔ byte-identical objects.
        public var objectXXH64: String
        public var ingestMs: IngestPassReport.Times
        public var flushMs: IngestPassReport.Times
        public var flushUsPerSeries: Double

        public func text() -> String {
            String(format: "%@ × %d series: ingest min %.1f ms median %.1f ms; flush min %.1f ms median %.1f ms = %.2f µs/series (median); object %d B xxh64 %@\n",
                   shape, series, ingestMs.minMs, ingestMs.medianMs, flushMs.minMs, flushMs.medianMs, flushUsPerSeries,
                   objectBytes, objectXXH64)
        }
    }

    /// `repeats` times: the Push into a kept accumulator, then its flush, each timed; with the
    /// last object.
    public func run(repeats: Int) -> (Report, object: [UInt8]) {
        precondition(repeats > 0, "a positive repeat count")
        let accumulator = ShardAccumulator()
        var writer = ByteWriter()
        var ingestNs: [UInt64] = [], flushNs: [UInt64] = []
        for _ in 0 ..< repeats {
            let t0 = EventLoop.monotonicNowNs
            IngestPasses.ingest(message, into: accumulator)
            ingestNs.append(EventLoop.monotonicNowNs - t0)
            flushNs.append(IngestPasses.timedFlush(accumulator, createdBy: "series-flush", into: &writer))
        }
        let flush = IngestPassReport.Times(flushNs)
        let report = Report(shape: shape.rawValue, series: series, objectBytes: writer.bytes.count,
                      objectXXH64: String(writer.bytes.withUnsafeBytes { XXH64.hash($0) }, radix: 16),
                      ingestMs: IngestPassReport.Times(ingestNs), flushMs: flush,
                      flushUsPerSeries: flush.medianMs * 1e3 / Double(series))
        return (report, writer.bytes)
    }
}
