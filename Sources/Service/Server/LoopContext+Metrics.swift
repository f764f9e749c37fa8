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

    func requestDuration(_ method: GRPCConnectionHandler.Method, outcome: CallOutcome) -> ValueHistogram {
        let slot = method.rawValue * CallOutcome.allCases.count + outcome.rawValue
        if let cached = metricCache.request[slot] { return cached }
        let route = String(decoding: GRPCConnectionHandler.methods[method.rawValue].bytes, as: UTF8.self)
        let histogram = server.metrics.requestDuration(route: route, status: outcome.label)
        metricCache.request[slot] = histogram
        return histogram
    }
}

/// dskit's `status_code` label of a finished call.
enum CallOutcome: Int, CaseIterable {
    case success, error, cancel
    var label: String { ["success", "error", "cancel"][rawValue] }
}

/// Loop-confined caches of labelled metric series.
struct LoopMetricCache {
    /// Bound on interned tenant names (beyond it names are built per Push).
    static let tenantsMax = 4096
    var tenants: [UInt64: [(bytes: [UInt8], name: String)]] = [:]
    var tenantCount = 0
    var wait: [String: ValueHistogram] = [:]
    var request = [ValueHistogram?](repeating: nil, count: GRPCConnectionHandler.Method.allCases.count * CallOutcome.allCases.count)
}

extension LoopContext {
    /// The tenant of a Push as a `String` for metric labels, interned per loop so a steady
    /// stream of Pushes from known tenants allocates none (hash of the view, then compare).
    func tenantName(_ bytes: UnsafeRawBufferPointer) -> String {
        let hash = XXH64.hash(bytes)
        if let entries = metricCache.tenants[hash] {
            for entry in entries where entry.bytes.elementsEqual(bytes) { return entry.name }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        if metricCache.tenantCount < LoopMetricCache.tenantsMax {
            metricCache.tenants[hash, default: []].append((Array(bytes), name))
            metricCache.tenantCount += 1
        }
        return name
    }
}
