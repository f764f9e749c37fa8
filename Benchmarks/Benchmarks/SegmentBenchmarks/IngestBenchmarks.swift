import Benchmark
import BinaryCoding
import CShims
import Pprof

/// Inputs of the ingest benchmarks: every pprof file of the corpus wrapped in a `PushRequest`
/// as a distributor sends it, built once on first use.
enum IngestInputs {
    struct Push {
        var name: String
        /// The profile bytes as carried in the request (gzip or raw protobuf).
        var profile: [UInt8]
        /// The encoded `PushRequest`.
        var message: [UInt8]
    }

    /// The corpus as agents send it: gzip where the file is gzip, raw protobuf otherwise.
    /// Files the decoder refuses (a truncated profile) are left out: an error is not the
    /// steady state being measured.
    static let asSent: [Push] = usable(BenchmarkData.pprofCorpus().map { push($0.name, $0.bytes) })

    /// The same profiles all gzip: raw files compressed once with libdeflate at level 6 (Go's
    /// `gzip.DefaultCompression` ratio class), so the decode path and the gunzip baseline see
    /// exactly the same bytes.
    static let allGzip: [Push] = asSent.map { p in
        isGzip(p.profile) ? p : push(p.name, gzip(p.profile))
    }

    static let excluded: [String] = {
        let kept = Set(asSent.map(\.name))
        return BenchmarkData.pprofCorpus().map(\.name).filter { !kept.contains($0) }
    }()

    static func profileBytes(_ pushes: [Push]) -> Int { pushes.reduce(0) { $0 + $1.profile.count } }

    private static func push(_ name: String, _ profile: [UInt8]) -> Push {
        let message = PushRequestMessage(
            tenantID: "anonymous",
            labels: [("service_name", "bench"), ("__name__", "process_cpu")],
            profile: profile, profileID: Array(0 ..< 16), shard: 1)
        return Push(name: name, profile: profile, message: message.encode())
    }

    private static func usable(_ pushes: [Push]) -> [Push] {
        let decoder = PushDecoder()
        return pushes.filter { p in
            p.message.withUnsafeBytes { raw in (try? decoder.decode(raw)) != nil }
        }
    }

    static func isGzip(_ b: [UInt8]) -> Bool { b.count >= 3 && b[0] == 0x1F && b[1] == 0x8B && b[2] == 0x08 }

    private static func gzip(_ input: [UInt8]) -> [UInt8] {
        let compressor = libdeflate_alloc_compressor(6)!
        defer { libdeflate_free_compressor(compressor) }
        var out = [UInt8](repeating: 0, count: libdeflate_gzip_compress_bound(compressor, input.count))
        let n = input.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in
                libdeflate_gzip_compress(compressor, i.baseAddress, i.count, o.baseAddress, o.count)
            }
        }
        precondition(n > 0)
        return Array(out[..<n])
    }
}

/// libdeflate gunzip alone over the profiles of `pushes` into one kept buffer: the floor under
/// the ingest decode path.
final class GunzipBaseline {
    private let decompressor = libdeflate_alloc_decompressor()!
    private var buffer: [UInt8]

    init(_ pushes: [IngestInputs.Push]) {
        // ISIZE (the last 4 bytes) is exact for the corpus's single-member streams.
        let largest = pushes.map { p in
            p.profile.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        }.max() ?? 0
        buffer = [UInt8](repeating: 0, count: largest)
    }

    deinit { libdeflate_free_decompressor(decompressor) }

    func gunzip(_ input: [UInt8]) -> Int {
        var produced = 0
        let result = input.withUnsafeBytes { i in
            buffer.withUnsafeMutableBytes { o in
                libdeflate_gzip_decompress(decompressor, i.baseAddress, i.count, o.baseAddress, o.count, &produced)
            }
        }
        precondition(result == LIBDEFLATE_SUCCESS)
        return produced
    }

    /// The decompressed bytes of `input` (a view of the shared buffer until the next call).
    func gunzipped(_ input: [UInt8]) -> ArraySlice<UInt8> { buffer[..<gunzip(input)] }
}

func ingestBenchmarks(_ configuration: Benchmark.Configuration) {
    func describe(_ pushes: [IngestInputs.Push]) -> String {
        "\(pushes.count) profiles, \(IngestInputs.profileBytes(pushes)) B"
    }
    // Names carry the input size, so bytes/s = size × throughput; computed lazily here would
    // load the corpus at registration, which is cheap (under 1 MB).
    let asSent = IngestInputs.asSent
    let allGzip = IngestInputs.allGzip

    Benchmark("Ingest decode (corpus as sent): \(describe(asSent))", configuration: configuration) { benchmark in
        let decoder = PushDecoder()
        decodeAll(asSent, decoder) // warm the kept buffers and columns
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { decodeAll(asSent, decoder) }
        benchmark.stopMeasurement()
    }

    Benchmark("Ingest decode (corpus all gzip): \(describe(allGzip))", configuration: configuration) { benchmark in
        let decoder = PushDecoder()
        decodeAll(allGzip, decoder)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { decodeAll(allGzip, decoder) }
        benchmark.stopMeasurement()
    }

    Benchmark("Baseline libdeflate gunzip (corpus all gzip): \(describe(allGzip))", configuration: configuration) { benchmark in
        let baseline = GunzipBaseline(allGzip)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for p in allGzip { blackHole(baseline.gunzip(p.profile)) }
        }
        benchmark.stopMeasurement()
    }

    // One Push per iteration, cycling through the corpus after a warm-up pass: the malloc
    // counts per profile (every percentile should be 0) are the steady-state proof.
    var allocConfiguration = configuration
    allocConfiguration.warmupIterations = 2 * asSent.count
    allocConfiguration.maxIterations = 100 * asSent.count
    let decoder = PushDecoder()
    var next = 0
    Benchmark("Ingest decode allocations: one Push per iteration (corpus as sent)",
              configuration: allocConfiguration) { _ in
        let p = asSent[next % asSent.count]
        next += 1
        p.message.withUnsafeBytes { raw in blackHole(try! decoder.decode(raw).shard) }
    }
}

/// The whole hot-path decode of every Push: request checks, inflate, pprof decode, references.
@inline(never)
func decodeAll(_ pushes: [IngestInputs.Push], _ decoder: PushDecoder) {
    for p in pushes {
        p.message.withUnsafeBytes { raw in blackHole(try! decoder.decode(raw).shard) }
    }
}
