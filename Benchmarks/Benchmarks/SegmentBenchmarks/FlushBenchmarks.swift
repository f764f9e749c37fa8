import Benchmark

/// A busy shard's flush: a few services, each pushed the accumulator corpus over and over, so
/// symbols deduplicate while rows and samples grow (4 × 100 pushes: 5 datasets, ~950 rows,
/// ~0.9M samples, a 5.7 MB object), as one 500 ms segment of a loaded core holds.
enum FlushInputs {
    static let services = 4
    static let pushesPerService = 100

    static let pushes: [[UInt8]] = (0 ..< services).flatMap { s in
        (0 ..< pushesPerService).map { k in
            let corpus = AccumulatorInputs.corpus
            return AccumulatorInputs.message(corpus[k % corpus.count], service: s)
        }
    }
}

func flushBenchmarks(_ configuration: Benchmark.Configuration) {
    flushBenchmark("ShardAccumulator.flush: busy shard, \(FlushInputs.services) services × \(FlushInputs.pushesPerService) pushes",
                   pushes: FlushInputs.pushes, configuration)
}
