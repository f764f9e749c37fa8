import Benchmark

/// Registered by package-benchmark's generated entry point. Limits keep the whole suite
/// (release, 2 cores) within a few minutes: each benchmark stops at 3 s or its iteration cap.
func benchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 1000)
    ingestBenchmarks(configuration)
    accumulatorBenchmarks(configuration)
    flushBenchmarks(configuration)
    indexBenchmarks(configuration)
    parquetBenchmarks(configuration)
    objectBenchmarks(configuration)
}
