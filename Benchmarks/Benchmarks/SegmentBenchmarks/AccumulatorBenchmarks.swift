import Accumulator
import Benchmark
import BinaryCoding
import Pprof
import SegmentObject

/// Inputs of the accumulator benchmarks: the profiles of `IngestInputs.allGzip` the accumulator
/// accepts, as pushes of several services, so a flush writes several datasets the way a shard does.
enum AccumulatorInputs {
    /// Services the corpus is pushed for; one dataset each.
    static let services = 5

    /// The all-gzip corpus without the profiles the accumulator refuses by design (a location
    /// without mapping in a profile split by sample labels, Accumulator/README.md): an error
    /// is not the steady state.
    static let corpus: [IngestInputs.Push] = IngestInputs.allGzip.filter { p in
        let probe = ShardAccumulator()
        return message(p, service: 0).withUnsafeBytes { raw in
            (try? probe.ingest(try PushRequestView(raw))) != nil
        }
    }

    /// Every profile of `corpus` once per service, in corpus order per service.
    static let pushes: [[UInt8]] = (0 ..< services).flatMap { s in corpus.map { message($0, service: s) } }

    static func message(_ p: IngestInputs.Push, service s: Int) -> [UInt8] { message(profile: p.profile, service: s) }

    static func message(profile: [UInt8], service s: Int) -> [UInt8] {
        PushRequestMessage(
            tenantID: "anonymous",
            labels: [("__name__", "process_cpu"), ("service_name", ByteString("bench-\(s)"))],
            profile: profile, profileID: (0 ..< 16).map { UInt8($0) &+ UInt8(s) }, shard: 1
        ).encode()
    }

    /// `corpus` gunzipped, one service's pushes, and the raw bytes in all.
    static func rawPushes(_ corpus: [IngestInputs.Push]) -> (messages: [[UInt8]], rawBytes: Int) {
        let baseline = GunzipBaseline(corpus)
        let profiles = corpus.map { p in Array(baseline.gunzipped(p.profile)) }
        return (profiles.map { message(profile: $0, service: 0) }, profiles.reduce(0) { $0 + $1.count })
    }

    /// `corpus` as a Pyroscope distributor forwards it: normalized (`distributorNormalized`),
    /// uncompressed (`write_path_compression: none`) or gzip at Go's default level (`gzip`), one
    /// service's pushes, and the profile bytes in all.
    static func distributorPushes(_ corpus: [IngestInputs.Push], gzip: Bool) -> (messages: [[UInt8]], bytes: Int) {
        let baseline = GunzipBaseline(corpus)
        let decoder = PprofDecoder()
        let profiles = corpus.map { p in
            // The decoder's views point into the bytes: copy the profile out while they live.
            let profile = Array(baseline.gunzipped(p.profile)).withUnsafeBytes { raw in
                try! decoder.decode(raw)
                return PprofProfile(decoder)
            }
            let normalized = PprofEncoder.encode(profile.distributorNormalized())
            return gzip ? PprofEncoder.gzip(normalized) : normalized
        }
        return (profiles.map { message(profile: $0, service: 0) }, profiles.reduce(0) { $0 + $1.count })
    }

    static let segmentID = ULID(timeMs: 1_700_000_000_000, entropy: Array(repeating: 7, count: 10))

    static func ingestAll(_ accumulator: ShardAccumulator, _ messages: ArraySlice<[UInt8]>) {
        for m in messages { ingest(accumulator, m) }
    }

    @inline(__always)
    static func ingest(_ accumulator: ShardAccumulator, _ message: [UInt8]) {
        _ = message.withUnsafeBytes { raw in try! accumulator.ingest(try PushRequestView(raw)) }
    }

    static func flush(_ accumulator: ShardAccumulator, _ w: inout ByteWriter) {
        w.bytes.removeAll(keepingCapacity: true)
        blackHole(accumulator.flush(segmentID: segmentID, shard: 1, createdBy: "bench", into: &w)!.size)
    }
}

func accumulatorBenchmarks(_ configuration: Benchmark.Configuration) {
    let corpus = AccumulatorInputs.corpus
    let oneService = AccumulatorInputs.pushes.prefix(corpus.count)
    let size = "\(corpus.count) profiles, \(IngestInputs.profileBytes(corpus)) B"

    Benchmark("Baseline libdeflate gunzip (accumulator corpus): \(size)", configuration: configuration) { benchmark in
        let baseline = GunzipBaseline(corpus)
        benchmark.startMeasurement()
        for p in corpus { blackHole(baseline.gunzip(p.profile)) }
        benchmark.stopMeasurement()
    }

    // One iteration: the whole accepted gzip corpus through `ShardAccumulator.ingest` (request checks,
    // inflate, decode, resolve, split, symbols, rows) into one service's dataset.
    ingestPassBenchmark("Ingest decode+accumulate (accumulator corpus): \(size)", oneService, configuration)

    // The same profiles decompressed, as upstream's distributor sends them by default
    // (`write_path_compression: none`): the pass without gunzip, same accumulator semantics.
    let raw = AccumulatorInputs.rawPushes(corpus)
    ingestPassBenchmark("Ingest decode+accumulate (accumulator corpus, raw as distributors send): \(corpus.count) profiles, \(raw.rawBytes) B raw",
                        raw.messages[...], configuration)

    // The same profiles as a v2 distributor forwards them: normalized, then raw (its default)
    // or gzip. What a writer in a Pyroscope cluster receives.
    for gzip in [false, true] {
        let forwarded = AccumulatorInputs.distributorPushes(corpus, gzip: gzip)
        let encoding = gzip ? "gzip" : "raw"
        ingestPassBenchmark("Ingest decode+accumulate (accumulator corpus, normalized and \(encoding) as distributors forward): \(corpus.count) profiles, \(forwarded.bytes) B \(encoding)",
                            forwarded.messages[...], configuration)
    }

    // One Push per iteration, cycling through the corpus with a flush (not measured) after each
    // pass: the malloc counts are per Push in steady state.
    var allocConfiguration = configuration
    allocConfiguration.warmupIterations = 3 * corpus.count
    allocConfiguration.maxIterations = 100 * corpus.count
    let perPush = ShardAccumulator()
    var perPushWriter = ByteWriter()
    var next = 0
    Benchmark("Ingest decode+accumulate allocations: one Push per iteration (accumulator corpus)",
              configuration: allocConfiguration) { benchmark in
        let i = next % corpus.count
        next += 1
        benchmark.startMeasurement()
        AccumulatorInputs.ingest(perPush, oneService[oneService.startIndex + i])
        benchmark.stopMeasurement()
        if i == corpus.count - 1 { AccumulatorInputs.flush(perPush, &perPushWriter) }
    }

    // One iteration: `flush` of a shard holding the corpus pushed once for each of
    // `AccumulatorInputs.services` services (85 pushes, 5 datasets); the pushes that refill it
    // run before the measured part.
    let all = AccumulatorInputs.pushes
    flushBenchmark("ShardAccumulator.flush: \(AccumulatorInputs.services) services × corpus (\(all.count) pushes)",
                   pushes: all, configuration)
}

/// One iteration: `messages` through `ShardAccumulator.ingest` into one service's dataset, its
/// buffers kept warm from the warm-up iterations; the flush that keeps the head from growing
/// without bound runs after the measured part.
func ingestPassBenchmark(_ name: String, _ messages: ArraySlice<[UInt8]>, _ configuration: Benchmark.Configuration) {
    let accumulator = ShardAccumulator()
    var writer = ByteWriter()
    Benchmark(name, configuration: configuration) { benchmark in
        benchmark.startMeasurement()
        AccumulatorInputs.ingestAll(accumulator, messages)
        benchmark.stopMeasurement()
        AccumulatorInputs.flush(accumulator, &writer)
    }
}

/// One iteration: `flush` of a shard refilled with `pushes` (not measured) into a kept `ByteWriter`.
func flushBenchmark(_ name: String, pushes: [[UInt8]], _ configuration: Benchmark.Configuration) {
    let shard = ShardAccumulator()
    var writer = ByteWriter()
    Benchmark(name, configuration: configuration) { benchmark in
        AccumulatorInputs.ingestAll(shard, pushes[...])
        writer.bytes.removeAll(keepingCapacity: true)
        benchmark.startMeasurement()
        blackHole(shard.flush(segmentID: AccumulatorInputs.segmentID, shard: 1, createdBy: "bench", into: &writer)!.size)
        benchmark.stopMeasurement()
    }
}
