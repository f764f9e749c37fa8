import Accumulator
import BinaryCoding
import CShims
import Foundation
import Pprof
import Runtime
import SegmentObject

/// Issue #4's measurement without a server: the corpus pushed through one `ShardAccumulator`
/// on this thread, pass after pass (decode + accumulate timed, and apart from it the flush
/// into a segment object after each pass), each pass beside a libdeflate gunzip pass over the
/// same gzip bytes, the same-run baseline.
/// What the `Ingest decode+accumulate` benchmarks measure, as a command that runs anywhere and
/// under `valgrind --tool=callgrind --toggle-collect='*ingestPass*'` (one profile with `--only`).
public struct IngestPasses {
    /// One Push of the pass: the file it came from and the encoded `PushRequest`.
    public struct Push {
        public var name: String
        public var message: [UInt8]
        /// The `profile` field as sent (gzip or raw).
        public var profile: [UInt8]
    }

    public var pushes: [Push]
    public var skipped: [(name: String, reason: String)]
    public var compression: ProfileCompression

    /// Every file of `directory` (or those named in `only`) as the benchmark builds it: gzip as
    /// the agent wrote it, a raw file compressed by libdeflate at level 6 (Go's default ratio
    /// class); raw with `.none`; with `normalize`, as a distributor forwards it
    /// (`distributorNormalized`, then re-encoded). A file the accumulator refuses is skipped.
    public init(directory: String, compression: ProfileCompression, normalize: Bool, only: [String] = []) throws {
        self.compression = compression
        pushes = []
        skipped = []
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        for name in names where only.isEmpty || only.contains(name) {
            let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
            switch Self.profileField(file, compression: compression, normalize: normalize) {
            case .failure(let refusal): skipped.append((name, refusal.message))
            case .success(let profile):
                let message = PushRequestMessage(tenantID: "anonymous", labels: [("__name__", "process_cpu"), ("service_name", "ingest-passes")],
                                                 profile: profile, profileID: Array(0 ..< 16), shard: 1).encode()
                do {
                    _ = try message.withUnsafeBytes { raw in try ShardAccumulator().ingest(try PushRequestView(raw)) }
                    pushes.append(Push(name: name, message: message, profile: profile))
                } catch {
                    skipped.append((name, Corpus.message(error)))
                }
            }
        }
    }

    private static func profileField(_ file: [UInt8], compression: ProfileCompression, normalize: Bool) -> Result<[UInt8], Corpus.Refusal> {
        let isGzip = file.starts(with: [0x1F, 0x8B])
        if !normalize && compression == .gzip { return .success(isGzip ? file : PprofEncoder.gzip(file)) }
        let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20, maxCompressionRatio: 0)
        let decoder = PprofDecoder()
        do {
            // The inflater's and decoder's views live only inside the closure: copy out there.
            let raw: [UInt8] = try file.withUnsafeBytes { bytes in
                let inflated = try inflater.inflate(bytes)
                guard normalize else { return Array(inflated) }
                try decoder.decode(inflated)
                return PprofEncoder.encode(PprofProfile(decoder).distributorNormalized())
            }
            return .success(compression == .gzip ? PprofEncoder.gzip(raw) : raw)
        } catch {
            return .failure(Corpus.Refusal(message: Corpus.message(error)))
        }
    }

    /// Bytes of the `profile` fields of one pass.
    public var profileBytes: Int { pushes.reduce(0) { $0 + $1.profile.count } }

    /// Per pass, in nanoseconds: the ingest pass, the flush after it and (gzip only) the gunzip
    /// pass before it.
    public struct Timings: Codable, Sendable {
        public var ingestNs: [UInt64] = []
        public var flushNs: [UInt64] = []
        public var gunzipNs: [UInt64] = []
    }

    /// `warmup` untimed passes, then `passes` timed ones, alternating gunzip and ingest.
    /// `lastObject` receives what the last flush wrote (the same bytes on every run: fixed
    /// segment and profile ids).
    public func run(passes: Int, warmup: Int = 2, lastObject: ([UInt8]) -> Void = { _ in }) -> Timings {
        precondition(passes > 0 && warmup >= 0, "a positive pass count")
        let accumulator = ShardAccumulator()
        let gunzip = GunzipPass(pushes.map(\.profile))
        var writer = ByteWriter()
        var timings = Timings()
        for pass in 0 ..< warmup + passes {
            if compression == .gzip {
                let t0 = EventLoop.monotonicNowNs
                gunzip.run()
                if pass >= warmup { timings.gunzipNs.append(EventLoop.monotonicNowNs - t0) }
            }
            let t0 = EventLoop.monotonicNowNs
            Self.ingestPass(pushes, into: accumulator)
            if pass >= warmup { timings.ingestNs.append(EventLoop.monotonicNowNs - t0) }
            let flushNs = Self.timedFlush(accumulator, createdBy: "ingest-passes", into: &writer)
            if pass >= warmup { timings.flushNs.append(flushNs) }
        }
        lastObject(writer.bytes)
        return timings
    }

    /// The measured code: every Push through `ShardAccumulator.ingest`. Not inlined, so a
    /// profiler can name it (callgrind `--toggle-collect='*ingestPass*'`).
    @inline(never)
    static func ingestPass(_ pushes: [Push], into accumulator: ShardAccumulator) {
        for p in pushes { ingest(p.message, into: accumulator) }
    }

    /// One encoded `PushRequest` into `accumulator`. Every measured push was accepted once by a
    /// fresh accumulator: a refusal now is a bug.
    @inline(__always)
    static func ingest(_ message: [UInt8], into accumulator: ShardAccumulator) {
        message.withUnsafeBytes { raw in
            do { _ = try accumulator.ingest(try PushRequestView(raw)) } catch { preconditionFailure("\(error)") }
        }
    }

    /// The flush the measurements time, into `writer` (emptied first), in nanoseconds. The
    /// segment id is fixed, so the same pushes write the same bytes on every run.
    static func timedFlush(_ accumulator: ShardAccumulator, createdBy: ByteString, into writer: inout ByteWriter) -> UInt64 {
        writer.bytes.removeAll(keepingCapacity: true)
        let t0 = EventLoop.monotonicNowNs
        _ = accumulator.flush(segmentID: ULID(timeMs: 1_700_000_000_000, entropy: Array(repeating: 7, count: 10)),
                              shard: 1, createdBy: createdBy, into: &writer)
        return EventLoop.monotonicNowNs - t0
    }
}

/// libdeflate gunzip alone over the profiles into one kept buffer: the floor under the decode path.
final class GunzipPass {
    private let profiles: [[UInt8]]
    private let decompressor = libdeflate_alloc_decompressor()!
    private var buffer: [UInt8]

    init(_ profiles: [[UInt8]]) {
        self.profiles = profiles
        // ISIZE (the last 4 bytes) is the size of a single-member stream.
        let largest = profiles.map { p in p.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) } }.max() ?? 0
        buffer = [UInt8](repeating: 0, count: largest)
    }

    deinit { libdeflate_free_decompressor(decompressor) }

    @inline(never)
    func run() {
        for p in profiles {
            var produced = 0
            let result = p.withUnsafeBytes { i in
                buffer.withUnsafeMutableBytes { o in
                    libdeflate_gzip_decompress(decompressor, i.baseAddress, i.count, o.baseAddress, o.count, &produced)
                }
            }
            precondition(result == LIBDEFLATE_SUCCESS, "a profile the accumulator inflated does not gunzip")
        }
    }
}
