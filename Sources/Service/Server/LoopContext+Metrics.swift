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
    var wait: [String: ValueHistogram] = [:]
    var request = [ValueHistogram?](repeating: nil, count: GRPCConnectionHandler.Method.allCases.count * CallOutcome.allCases.count)
}
