import Accumulator
import BinaryCoding
import Foundation
import Pprof

/// One corpus profile, decoded once at start-up and re-encoded without `time_nanos`, so a
/// payload with the current time is `body` + one appended field 9 (protobuf: the last
/// occurrence of a scalar wins, and field order is free).
public struct CorpusProfile: Sendable {
    public var name: String
    /// The pprof without `time_nanos` (raw protobuf).
    public var body: [UInt8]
    /// `__name__` as a distributor would send it for this profile's sample types.
    public var metricName: ByteString
}

/// The profiles a run pushes, and the files it left out (with the server's reason).
public struct Corpus: Sendable {
    public var profiles: [CorpusProfile]
    public var skipped: [(name: String, reason: String)]

    public init(profiles: [CorpusProfile], skipped: [(name: String, reason: String)] = []) {
        self.profiles = profiles
        self.skipped = skipped
    }

    /// Loads every regular file in `directory` (sorted by name). Each file is inflated and
    /// decoded (and normalized as a distributor forwards it, with `normalize`), then ingested
    /// once by a scratch `ShardAccumulator` (the server's own code): a file the server would
    /// refuse is skipped rather than counted as errors at run time.
    public static func load(directory: String, normalize: Bool = false) throws -> Corpus {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var corpus = Corpus(profiles: [])
        for name in names {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            switch prepare(name: name, bytes: bytes, normalize: normalize) {
            case .success(let profile): corpus.profiles.append(profile)
            case .failure(let reason): corpus.skipped.append((name, reason.message))
            }
        }
        return corpus
    }

    public struct Refusal: Error { public var message: String }

    /// Decodes `bytes` (raw or gzip pprof), normalizes it when asked, drops `time_nanos`, and
    /// checks that the server's accumulator accepts the result and stores a profile row of it.
    public static func prepare(name: String, bytes: [UInt8], normalize: Bool = false) -> Result<CorpusProfile, Refusal> {
        let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20, maxCompressionRatio: 0)
        let decoder = PprofDecoder()
        var profile: PprofProfile
        do {
            // The decoder's views point into the inflater's buffer: copy the profile out while both live.
            profile = try bytes.withUnsafeBytes { raw in
                try decoder.decode(try inflater.inflate(raw))
                return PprofProfile(decoder)
            }
        } catch {
            return .failure(Refusal(message: Self.message(error)))
        }
        if normalize { profile = profile.distributorNormalized() }
        profile.timeNanos = 0
        let body = PprofEncoder.encode(profile)
        let metricName = Self.metricName(sampleTypes: profile.sampleTypes.map { profile.stringTable[safe: Int($0.type)] ?? "" })
        let check = PushRequestMessage(tenantID: "loadgen-check", labels: [("__name__", metricName), ("service_name", "check")],
                                       profile: body, profileID: Array(repeating: 1, count: 16)).encode()
        do {
            let stats = try check.withUnsafeBytes { raw in try ShardAccumulator().ingest(try PushRequestView(raw)) }
            // Such a push is answered OK and stores nothing: `--audit` could not tell it from a lost one.
            guard stats.profilesCreated > 0 else { return .failure(Refusal(message: "no sample has a non-zero value: a push of it stores no profile")) }
        } catch {
            return .failure(Refusal(message: Self.message(error)))
        }
        return .success(CorpusProfile(name: name, body: body, metricName: metricName))
    }

    /// A refusal's text: the server's message for a `PushError`, else the error as printed.
    static func message(_ error: any Error) -> String {
        (error as? PushError)?.message ?? "\(error)"
    }

    /// What a client SDK names such a profile (`__name__`): the profile type's name part.
    static func metricName(sampleTypes: [ByteString]) -> ByteString {
        let types = Set(sampleTypes)
        if types.contains("alloc_objects") || types.contains("inuse_space") || types.contains("alloc_space") { return "memory" }
        if types.contains("wall") { return "wall" }
        if types.contains("contentions") || types.contains("delay") { return "mutex" }
        if types.contains("goroutine") || types.contains("goroutines") { return "goroutines" }
        return "process_cpu"
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
