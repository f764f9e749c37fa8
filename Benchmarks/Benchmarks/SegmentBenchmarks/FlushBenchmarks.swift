import Accumulator
import Benchmark
import BinaryCoding

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
    // One iteration: `flush` of the shard into a kept `ByteWriter`; the pushes that refill it run
    // before the measured part.
    let shard = ShardAccumulator()
    var writer = ByteWriter()
    let pushes = FlushInputs.pushes
    Benchmark("ShardAccumulator.flush: busy shard, \(FlushInputs.services) services × \(FlushInputs.pushesPerService) pushes",
              configuration: configuration) { benchmark in
        AccumulatorInputs.ingestAll(shard, pushes[...])
        writer.bytes.removeAll(keepingCapacity: true)
        benchmark.startMeasurement()
        blackHole(shard.flush(segmentID: AccumulatorInputs.segmentID, shard: 1, createdBy: "bench", into: &writer)!.size)
        benchmark.stopMeasurement()
    }
}
