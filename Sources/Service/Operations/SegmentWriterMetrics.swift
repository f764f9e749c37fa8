import Prometheus

/// The process's Prometheus registry and the metrics it exports, named as Pyroscope's
/// segment-writer names them (ingest-and-ops.md §5.3) so existing dashboards keep working.
public final class SegmentWriterMetrics: Sendable {
    public static let version = "0.1.0"

    let registry = PrometheusCollectorRegistry()

    public init() {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "pyroscope", metricName: "build", unitName: "info",
                                             helpText: "Build information of the running segment-writer."),
            labels: [("version", Self.version), ("implementation", "swift")]
        ).set(to: 1.0)
    }

    /// Prometheus text exposition format.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
