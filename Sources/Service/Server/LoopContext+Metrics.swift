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

    func requestDuration(_ method: GRPCConnectionHandler.Method, outcome: String) -> ValueHistogram {
        let key = "\(method.rawValue)/\(outcome)"
        if let cached = metricCache.request[key] { return cached }
        let route = String(decoding: GRPCConnectionHandler.methods[method.rawValue].bytes, as: UTF8.self)
        let histogram = server.metrics.requestDuration(route: route, status: outcome)
        metricCache.request[key] = histogram
        return histogram
    }
}

/// Loop-confined caches of labelled metric series.
struct LoopMetricCache {
    var wait: [String: ValueHistogram] = [:]
    var request: [String: ValueHistogram] = [:]
}
