import BinaryCoding
import Prometheus

/// Labelled series a loop observes per Push, looked up in the registry once and kept.
extension LoopContext {
    func waitDuration(tenant: String) -> ValueHistogram {
        if let cached = metricCache.wait[tenant] { return cached }
        let histogram = server.metrics.waitDuration(tenant: tenant)
        metricCache.wait[tenant] = histogram
        return histogram
    }

    func waitTimeouts(tenant: String) -> Counter {
        server.metrics.waitTimeouts(tenant: tenant)  // rare: no cache
    }

    /// Upstream's head ingest counters of a Push's `__name__` (empty when it has none).
    func headIngestCounters(profileName bytes: UnsafeRawBufferPointer) -> SegmentWriterMetrics.HeadIngestCounters {
        let name = metricCache.profileNames.name(bytes)
        if let cached = metricCache.headIngest[name] { return cached }
        let counters = server.metrics.headIngestCounters(profileName: name)
        metricCache.headIngest[name] = counters
        return counters
    }

    /// dskit's per-route gauge and message-size histogram of a gRPC method.
    func routeMetrics(_ method: GRPCConnectionHandler.Method) -> RouteMetrics {
        if let cached = metricCache.routes[method.rawValue] { return cached }
        let route = String(decoding: GRPCConnectionHandler.methods[method.rawValue].bytes, as: UTF8.self)
        let metrics = RouteMetrics(inflight: server.metrics.inflightRequests(route: route),
                                   messageBytes: server.metrics.requestMessageBytes(route: route))
        metricCache.routes[method.rawValue] = metrics
        return metrics
    }

    func requestDuration(_ method: GRPCConnectionHandler.Method, outcome: CallOutcome) -> ValueHistogram {
        let slot = method.rawValue * CallOutcome.allCases.count + outcome.rawValue
        if let cached = metricCache.request[slot] { return cached }
        let route = String(decoding: GRPCConnectionHandler.methods[method.rawValue].bytes, as: UTF8.self)
        let histogram = server.metrics.requestDuration(route: route, status: outcome.label)
        metricCache.request[slot] = histogram
        return histogram
    }
}

struct RouteMetrics {
    let inflight: Gauge
    let messageBytes: ValueHistogram
}

/// dskit's `status_code` label of a finished call.
enum CallOutcome: Int, CaseIterable {
    case success, error, cancel
    var label: String { ["success", "error", "cancel"][rawValue] }
}

/// Loop-confined caches of labelled metric series.
struct LoopMetricCache {
    var tenants = InternedLabelValues()
    var profileNames = InternedLabelValues()
    var wait: [String: ValueHistogram] = [:]
    var headIngest: [String: SegmentWriterMetrics.HeadIngestCounters] = [:]
    var request = [ValueHistogram?](repeating: nil, count: GRPCConnectionHandler.Method.allCases.count * CallOutcome.allCases.count)
    var routes = [RouteMetrics?](repeating: nil, count: GRPCConnectionHandler.Method.allCases.count)
}

extension LoopContext {
    /// The tenant of a Push as a `String` for metric labels.
    func tenantName(_ bytes: UnsafeRawBufferPointer) -> String { metricCache.tenants.name(bytes) }
}

/// Label values read from Pushes (tenants, profile names) as `String`s, interned per loop so a
/// steady stream of Pushes with known values allocates none (hash of the view, then compare).
struct InternedLabelValues {
    /// Bound on interned values (beyond it names are built per Push).
    static let max = 4096
    private var entries: [UInt64: [(bytes: [UInt8], name: String)]] = [:]
    private var count = 0

    mutating func name(_ bytes: UnsafeRawBufferPointer) -> String {
        let hash = XXH64.hash(bytes)
        if let candidates = entries[hash] {
            for entry in candidates where entry.bytes.elementsEqual(bytes) { return entry.name }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        if count < Self.max {
            entries[hash, default: []].append((Array(bytes), name))
            count += 1
        }
        return name
    }
}
