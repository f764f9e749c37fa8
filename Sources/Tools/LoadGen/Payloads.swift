import BinaryCoding
import Pprof
import Synchronization

/// How the `profile` field is sent: raw protobuf (the distributor's default) or gzip
/// (`write_path_compression: gzip`, what `pprof.Marshal(p, true)` sends).
public enum ProfileCompression: String, Sendable, CaseIterable, Codable {
    case none, gzip
}

/// The corpus with `time_nanos` = one instant, ready to send: built once per refresh
/// (every second) off the client loops, so the hot loop only picks a pre-built payload.
public final class PayloadSet: Sendable {
    /// The `profile` field bytes per corpus profile (gzip when so configured).
    public let profiles: [[UInt8]]
    /// Decompressed (raw pprof) size per profile.
    public let rawSizes: [Int]
    public let metricNames: [ByteString]
    public let timeNanos: Int64

    public init(corpus: Corpus, timeNanos: Int64, compression: ProfileCompression) {
        var profiles: [[UInt8]] = []
        var rawSizes: [Int] = []
        for p in corpus.profiles {
            var w = ByteWriter()
            w.bytes.reserveCapacity(p.body.count + 11)
            w.bytes.append(contentsOf: p.body)
            w.appendInt64Field(9, timeNanos)
            rawSizes.append(w.bytes.count)
            profiles.append(compression == .gzip ? PprofEncoder.gzip(w.bytes) : w.bytes)
        }
        self.profiles = profiles
        self.rawSizes = rawSizes
        metricNames = corpus.profiles.map(\.metricName)
        self.timeNanos = timeNanos
    }

    public var count: Int { profiles.count }
}

/// Where the main thread publishes the newest `PayloadSet`; loops compare a generation
/// number per push (one atomic load) and take the lock only when it changed.
public final class PayloadBoard: Sendable {
    private let generationCounter = Atomic<Int>(0)
    private let current: Mutex<PayloadSet>

    public init(_ initial: PayloadSet) { current = Mutex(initial) }

    public var generation: Int { generationCounter.load(ordering: .acquiring) }

    public func publish(_ set: PayloadSet) {
        current.withLock { $0 = set }
        generationCounter.add(1, ordering: .releasing)
    }

    public func latest() -> (PayloadSet, generation: Int) {
        let g = generation
        return (current.withLock { $0 }, g)
    }
}
