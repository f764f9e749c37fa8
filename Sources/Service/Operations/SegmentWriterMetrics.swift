import Prometheus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process's Prometheus registry and the metrics it exports, named as Pyroscope's
/// segment-writer names them (ingest-and-ops.md §5.3) so existing dashboards keep working.
/// Only metrics whose concept exists here are registered. Each accessor looks the labelled
/// series up in the registry (a lock and a dictionary); hot callers keep what they get.
public final class SegmentWriterMetrics: Sendable {
    public static let version = "0.1.0"

    let registry = PrometheusCollectorRegistry()

    /// Pyroscope's buckets (`pkg/segmentwriter/segment_metrics.go`, classic histograms).
    static let sizeBuckets: [Double] = (0 ..< 14).map { 1024 * pow4($0) }  // 1 KiB … 64 GiB
    static let flushBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5]
    static let waitBuckets: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2]
    /// `prometheus.ExponentialBucketsRange(0.001, 10, 30)`: 1 ms … 10 s, equal ratios.
    static let metadataBuckets: [Double] = (0 ..< 30).map { 0.001 * pow(10_000, Double($0) / 29) }
    /// dskit's `DefBuckets` for request durations.
    static let requestBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let processCollector: ProcessCollector
    private let scrapeRefreshers = Mutex<[@Sendable () -> Void]>([])

    public init() {
        processCollector = ProcessCollector(registry: registry)
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "pyroscope", metricName: "build", unitName: "info",
                                             helpText: "Build information of the running segment-writer."),
            labels: [("version", Self.version), ("implementation", "swift")]
        ).set(to: 1.0)
    }

    /// Prometheus text exposition format, with the values read at scrape time refreshed first.
    public func exposition() -> [UInt8] {
        processCollector.refresh()
        for refresh in scrapeRefreshers.withLock({ $0 }) { refresh() }
        return registry.emitToBuffer()
    }

    /// Runs `refresh` before each exposition: for values read when scraped rather than kept
    /// current on the hot path (the memory budget's use, which every Push changes).
    func refreshOnScrape(_ refresh: @escaping @Sendable () -> Void) {
        scrapeRefreshers.withLock { $0.append(refresh) }
    }

    // Ours (no upstream counterpart): where the writer's memory goes, beside
    // `process_resident_memory_bytes`.

    /// `-segment-writer.memory-budget-bytes` and what is charged to it now.
    func memoryBudget() -> (limit: Gauge, used: Gauge) {
        (registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_memory_budget_bytes", unitName: "",
                                                             helpText: "Memory budget for Pushes arriving, accumulated data and uploads; past it Pushes get RESOURCE_EXHAUSTED.")),
         registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_memory_budget_used_bytes", unitName: "",
                                                             helpText: "Bytes charged to the memory budget: Push messages arriving or queued, accumulated data, segments uploading.")))
    }

    /// A shard's accumulator arenas: the pages its segments have committed so far (the
    /// high-water mark; they stay resident for the next segments).
    func arenaCommittedBytes(shard: UInt32) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_arena_committed_bytes", unitName: "",
                                                            helpText: "Bytes of a shard's accumulator arenas committed by its segments so far (high-water mark)."),
                           labels: [("shard", String(shard))])
    }

    /// Bytes of a Push's decoded (decompressed) profile, per shard and tenant (upstream: `p.SizeVT()`).
    func ingestBytes(shard: UInt32, tenant: String) -> ValueHistogram {
        histogram("pyroscope_segment_writer_segment_ingest_bytes", [("shard", String(shard)), ("tenant", tenant)],
                  Self.sizeBuckets, "Size of ingested profiles.")
    }

    func segmentSize(shard: UInt32) -> ValueHistogram {
        histogram("pyroscope_segment_writer_segment_size_bytes", [("shard", String(shard))], Self.sizeBuckets,
                  "Size of uploaded segment objects.")
    }

    func flushDuration(shard: UInt32) -> ValueHistogram {
        histogram("pyroscope_segment_flush_segment_duration_seconds", [("shard", String(shard))], Self.flushBuckets,
                  "Time from the start of a segment flush until its Pushes can be acknowledged.")
    }

    /// Upstream's `dataTimingBuckets`: `ExponentialBucketsRange(0.001, 1, 20)`.
    static let dataTimingBuckets: [Double] = (0 ..< 20).map { 0.001 * pow(1000, Double($0) / 19) }

    /// Encoding all of a segment's datasets (upstream times its heads' flush the same way).
    func flushHeadsDuration(shard: UInt32) -> ValueHistogram {
        histogram("pyroscope_segment_flush_heads_duration_seconds", [("shard", String(shard))], Self.dataTimingBuckets,
                  "Time to encode all datasets of a segment.")
    }

    /// One (tenant, service) dataset's share of a segment's encoding.
    func flushServiceHeadDuration(shard: UInt32, tenant: String) -> ValueHistogram {
        histogram("pyroscope_segment_flush_service_head_duration_seconds", [("shard", String(shard)), ("tenant", tenant)],
                  Self.dataTimingBuckets, "Time to encode one service dataset of a segment.")
    }

    func uploadDuration(success: Bool) -> ValueHistogram {
        histogram("pyroscope_segment_writer_upload_duration_seconds", [("status", success ? "success" : "error")],
                  Self.flushBuckets, "Duration of segment uploads, retries included.")
    }

    func hedgedUploadDuration(success: Bool) -> ValueHistogram {
        histogram("pyroscope_segment_writer_hedged_upload_duration_seconds", [("status", success ? "success" : "error")],
                  Self.flushBuckets, "Duration of hedged segment uploads.")
    }

    /// AddBlock and, when it failed, the DLQ fallback (upstream observes both together).
    func storeMetadataDuration(success: Bool) -> ValueHistogram {
        histogram("pyroscope_segment_writer_store_metadata_duration_seconds", [("status", success ? "success" : "error")],
                  Self.metadataBuckets, "Duration of store metadata requests.")
    }

    func storeMetadataDLQ(success: Bool) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_store_metadata_dlq", unitName: "",
                                                              helpText: "Metadata written to the DLQ path."),
                             labels: [("status", success ? "success" : "error")])
    }

    func waitDuration(tenant: String) -> ValueHistogram {
        histogram("pyroscope_segment_ingester_wait_duration_seconds", [("tenant", tenant)], Self.waitBuckets,
                  "Time a Push waited for its segment to be flushed.")
    }

    func waitTimeouts(tenant: String) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_ingester_wait_timeouts", unitName: "",
                                                              helpText: "Pushes whose deadline passed while waiting for the flush."),
                             labels: [("tenant", tenant)])
    }

    // dskit's lifecycler metrics for the segment-writer ring (`ring/lifecycler_metrics.go`), named
    // as upstream registers them (prefix `pyroscope_segment_writer_`, label `name`). The
    // heartbeat counter keeps dskit's name for every KV store, memberlist included.

    func ringHeartbeats() -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_member_consul_heartbeats_total",
                                                              unitName: "", helpText: "The total number of heartbeats sent to consul."),
                             labels: [("name", "segment-writer")])
    }

    func ringTokensOwned() -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_member_ring_tokens_owned", unitName: "",
                                                            helpText: "The number of tokens owned in the ring."),
                           labels: [("name", "segment-writer")])
    }

    func ringTokensToOwn() -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_member_ring_tokens_to_own", unitName: "",
                                                            helpText: "The number of tokens to own in the ring."),
                           labels: [("name", "segment-writer")])
    }

    /// A service dataset's bytes in a flushed segment, and a tenant dataset index's
    /// (`segment_head_size_bytes`, `segment_tenant_index_bytes`; `ExponentialBucketsRange`).
    func observeDatasetSize(shard: UInt32, tenant: String, tenantIndex: Bool, bytes: Int) {
        func range(_ low: Double, _ high: Double, _ count: Int) -> [Double] {
            (0 ..< count).map { low * pow(high / low, Double($0) / Double(count - 1)) }
        }
        let labels = [("shard", String(shard)), ("tenant", tenant)]
        if tenantIndex {
            histogram("pyroscope_segment_tenant_index_bytes", labels, range(1024, 100 * 1024 * 1024, 20),
                      "Size of the per-tenant dataset index emitted into a flushed segment block.").record(Double(bytes))
        } else {
            histogram("pyroscope_segment_head_size_bytes", labels, range(10 * 1024, 100 * 1024 * 1024, 30),
                      "Size of a service dataset in a flushed segment block.").record(Double(bytes))
        }
    }

    // Upstream's head metrics (`pkg/segmentwriter/memdb/metrics.go`, prefix
    // `pyroscope_segment_writer`): a head is one dataset of a segment.

    /// The ingest counters of one `profile_name` (the Push's `__name__`).
    struct HeadIngestCounters {
        let seriesCreated: Counter
        let profilesCreated: Counter
        let sampleValuesIngested: Counter
        let sampleValuesReceived: Counter
    }

    func headIngestCounters(profileName: String) -> HeadIngestCounters {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "pyroscope_segment_writer_" + name, unitName: "",
                                                                  helpText: help),
                                 labels: [("profile_name", profileName)])
        }
        return HeadIngestCounters(
            seriesCreated: counter("tsdb_head_series_created_total", "Total number of series created in the head"),
            profilesCreated: counter("head_profiles_created_total", "Total number of profiles created in the head"),
            sampleValuesIngested: counter("head_ingested_sample_values_total",
                                          "Number of sample values ingested into the head per profile type."),
            sampleValuesReceived: counter("head_received_sample_values_total",
                                          "Number of sample values received into the head per profile type."))
    }

    /// One flushed head (dataset) as upstream's `Head.Flush` observes it, with its buckets.
    func observeHeadFlush(series: Int, profiles: Int, samples: Int, unsymbolized: Bool,
                          profilesBytes: Int, indexBytes: Int, symbolsBytes: Int, seconds: Double) {
        let mib = 1024.0 * 1024.0
        func exponential(_ start: Double, _ factor: Double, _ count: Int) -> [Double] {
            (0 ..< count).map { start * pow(factor, Double($0)) }
        }
        let prefix = "pyroscope_segment_writer_"
        func counter(_ name: String, _ labels: [(String, String)], _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: prefix + name, unitName: "", helpText: help),
                                 labels: labels)
        }
        counter("head_flushed_blocks_total", [("status", "success")], "Total number of blocks flushed.").increment()
        counter("head_flushed_blocks_unsymbolized_total", [("unsymbolized", unsymbolized ? "true" : "false")],
                "Total number of blocks flushed, labeled by unsymbolized status.").increment()
        counter("rows_written", [("type", "profiles")], "Number of rows written to a parquet table.").increment(by: Int64(profiles))
        counter("head_written_profile_segments_total", [("status", "success")],
                "Total number and status of profile row groups segments written.").increment()
        histogram(prefix + "head_written_profile_segments_size_bytes", [], exponential(512 * 1024, 2, 11),
                  "Size of a flushed table in bytes.").record(Double(profilesBytes))
        histogram(prefix + "head_flushed_block_duration_seconds", [], exponential(5, 1.5, 10),
                  "Time to flushed a block in seconds.").record(seconds)
        histogram(prefix + "head_flushed_block_series", [], (0 ..< 10).map { 1000 + 2000 * Double($0) },
                  "Number of series in a flushed block.").record(Double(series))
        histogram(prefix + "head_flushed_block_samples", [], exponential(200_000, 2, 15),
                  "Number of samples in a flushed block.").record(Double(samples))
        histogram(prefix + "head_flushed_block_profiles", [], exponential(20_000, 2, 10),
                  "Number of profiles in a flushed block.").record(Double(profiles))
        histogram(prefix + "head_flushed_block_size_bytes", [], exponential(50 * mib, 1.5, 11),
                  "Size of a flushed block in bytes.").record(Double(profilesBytes + indexBytes + symbolsBytes))
        for (name, bytes) in [("tsdb", indexBytes), ("profiles.parquet", profilesBytes), ("symbols.symdb", symbolsBytes)] {
            histogram(prefix + "head_flushed_table_size_bytes", [("name", name)], exponential(2 * mib, 2, 11),
                      "Size of a flushed table in bytes.").record(Double(bytes))
        }
    }

    // Ours, beyond upstream: where a loop's time goes, comparable with the benchmarks.

    /// Decode and accumulate of one Push on its loop (inflate, decode, split, symbols, stacks, rows).
    func pushIngestDuration(shard: UInt32) -> ValueHistogram {
        histogram("pyroscope_segment_writer_push_ingest_duration_seconds", [("shard", String(shard))],
                  (0 ..< 16).map { 0.00005 * pow(2, Double($0)) },  // 50 µs … 1.6 s
                  "Time a loop spent decoding and accumulating one Push.")
    }

    /// Encoding one segment object on its loop (before the upload).
    func segmentEncodeDuration(shard: UInt32) -> ValueHistogram {
        histogram("pyroscope_segment_writer_segment_encode_duration_seconds", [("shard", String(shard))],
                  (0 ..< 16).map { 0.0005 * pow(2, Double($0)) },  // 0.5 ms … 16 s
                  "Time a loop spent encoding one segment object.")
    }

    // dskit's server metrics (`server/metrics.go`, namespace `pyroscope`).

    /// Accepted connections open now; `protocol` is `grpc` or `http`.
    func tcpConnections(protocol name: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pyroscope", metricName: "tcp_connections", unitName: "",
                                                            helpText: "Current number of accepted TCP connections."),
                           labels: [("protocol", name)])
    }

    /// Ours: connections closed as soon as accepted, every slot of their loop taken.
    func tcpConnectionsRefused() -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "pyroscope", metricName: "tcp_connections_refused_total", unitName: "",
                                                              helpText: "Connections closed as soon as accepted: every slot of their event loop was taken."))
    }

    /// dskit's gauge of `-server.grpc-conn-limit` / `-server.http-conn-limit` (0: no limit).
    func tcpConnectionsLimit(protocol name: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pyroscope", metricName: "tcp_connections_limit", unitName: "",
                                                            helpText: "The max number of TCP connections that can be accepted (0 means no limit)."),
                           labels: [("protocol", name)])
    }

    func inflightRequests(route: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pyroscope", metricName: "inflight_requests", unitName: "",
                                                            helpText: "Current number of inflight requests."),
                           labels: [("method", "gRPC"), ("route", route)])
    }

    /// Decoded request message sizes, dskit's `BodySizeBuckets` (1 MB … 250 MB).
    func requestMessageBytes(route: String) -> ValueHistogram {
        let mb = 1024.0 * 1024.0
        return histogram("pyroscope_request_message_bytes", [("method", "gRPC"), ("route", route)],
                         [1, 2.5, 5, 10, 25, 50, 100, 250].map { $0 * mb }, "Size (in bytes) of messages received in the request.")
    }

    /// dskit's server histogram; `status` is success, error or cancel.
    func requestDuration(route: String, status: String) -> ValueHistogram {
        histogram("pyroscope_request_duration_seconds",
                  [("method", "gRPC"), ("route", route), ("status_code", status), ("ws", "false")],
                  Self.requestBuckets, "Time (in seconds) spent serving HTTP requests.")
    }

    private func histogram(_ name: String, _ labels: [(String, String)], _ buckets: [Double], _ help: String) -> ValueHistogram {
        registry.makeValueHistogram(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
                                    labels: labels, buckets: buckets)
    }

    private static func pow4(_ n: Int) -> Double {
        var v = 1.0
        for _ in 0 ..< n { v *= 4 }
        return v
    }
}
