import Accumulator
import BinaryCoding
import Pprof
import SegmentObject

/// What the ingest path promises for any input (ingest-and-ops.md §1.3, issue #4), checked on
/// one input at a time so a fuzzer can drive it: a push is either refused with a typed error,
/// leaving the accumulator exactly as it was (the flushed object is byte-identical to the one
/// of the seed push alone), or accepted, and then the flushed object passes the deep check
/// behind `segtool verify`. Crashes, traps and sanitizer reports are the fuzzer's to catch.
///
/// Every check first ingests the same valid seed push, so a bad input meets a shard that
/// already holds a dataset (the case where corruption would reach another tenant's data).
public final class IngestCheck {
    /// What the input bytes are.
    public enum Input: Sendable {
        /// The `profile` field of a push (gzip or raw pprof) for a fixed tenant and labels.
        case profile
        /// A whole `PushRequest` message, as a gRPC frame carries it.
        case push
        /// Several pushes' pprof bytes, cut at `sequenceSeparator`, each for one of four
        /// tenants and one of four services (its first byte picks them), into one segment.
        case profileSequence
    }

    /// Where a `profileSequence` input is cut into pushes.
    public static let sequenceSeparator: [UInt8] = Array("\u{0}PUSH\u{0}".utf8)

    public enum Outcome: Equatable, Sendable, CustomStringConvertible {
        case accepted
        case refused(PushError.Kind)

        public var description: String {
            switch self {
            case .accepted: "accepted"
            case .refused(let kind): "refused (\(kind))"
            }
        }
    }

    public let input: Input
    private let accumulator: ShardAccumulator
    private let seed: [UInt8]
    /// The object flushed after the seed push alone.
    private let seedObject: [UInt8]
    private var writer = ByteWriter()

    public static let tenant: ByteString = "fuzz-tenant"
    static let seedTenant: ByteString = "seed-tenant"
    public static let labels: [(name: ByteString, value: ByteString)] = [("__name__", "process_cpu"), ("service_name", "fuzz")]

    /// `seedProfile`: a profile the accumulator accepts (a corpus file).
    public init(seedProfile: [UInt8], input: Input, limits: AccumulatorLimits = AccumulatorLimits()) throws(FuzzViolation) {
        self.input = input
        accumulator = ShardAccumulator(limits: limits)
        seed = Self.push(profile: seedProfile, tenant: Self.seedTenant)
        guard case .accepted = Self.ingest(seed, into: accumulator) else { throw FuzzViolation("the seed profile is refused") }
        var w = ByteWriter()
        guard Self.flush(accumulator, into: &w) != nil else { throw FuzzViolation("the seed push flushed no object") }
        seedObject = w.bytes
    }

    /// Ingests the seed and then `bytes` (read as `input`), flushes, and checks the promise.
    @discardableResult
    public func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> Outcome {
        guard case .accepted = Self.ingest(seed, into: accumulator) else { throw FuzzViolation("the seed push was refused") }
        let before = (accumulator.accumulatedBytes, accumulator.pushCount)
        let outcome = switch input {
        case .profile: Self.ingest(Self.push(profile: Array(bytes), tenant: Self.tenant), into: accumulator)
        case .push: Self.ingest(bytes, into: accumulator)
        case .profileSequence: try ingestSequence(bytes)
        }
        if case .refused(let kind) = outcome, (accumulator.accumulatedBytes, accumulator.pushCount) != before {
            throw FuzzViolation("a push refused (\(kind)) changed the accumulator's counts")
        }
        writer.bytes.removeAll(keepingCapacity: true)
        guard let meta = Self.flush(accumulator, into: &writer) else { throw FuzzViolation("no object after the seed push") }
        switch outcome {
        case .refused(let kind):
            guard writer.bytes == seedObject else {
                throw FuzzViolation("a push refused (\(kind)) changed the flushed object")
            }
        case .accepted:
            do {
                _ = try writer.bytes.withUnsafeBytes { raw throws(DecodeError) in try SegmentObjectVerifier.verify(raw, meta: meta) }
            } catch {
                throw FuzzViolation("an accepted push flushed an object that fails verification: \(error)")
            }
            // Another tenant's push (a `push` input may name the seed's tenant) leaves the
            // seed tenant's service datasets byte for byte as they were (its dataset index
            // names datasets by position in the object, which other tenants' datasets shift).
            if input == .profile, Self.datasets(of: Self.seedTenant, in: writer.bytes) != Self.datasets(of: Self.seedTenant, in: seedObject) {
                throw FuzzViolation("an accepted push of another tenant changed the seed tenant's datasets")
            }
        }
        return outcome
    }

    /// Every push of a sequence, each checked to leave the counts as they were when refused;
    /// accepted when any was (the flushed object is then verified), else the last refusal.
    private func ingestSequence(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> Outcome {
        var outcome = Outcome.refused(.profileUndecodable)
        var anyAccepted = false
        for part in Self.parts(bytes) {
            let selector = part.first ?? 0
            let labels: [(name: ByteString, value: ByteString)] = [("__name__", "process_cpu"), ("service_name", ByteString("svc-\(selector >> 2 & 3)"))]
            let message = PushRequestMessage(tenantID: ByteString("tenant-\(selector & 3)"), labels: labels, profile: Array(part.dropFirst()),
                                             profileID: Array(0 ..< 16), shard: 1).encode()
            let before = (accumulator.accumulatedBytes, accumulator.pushCount)
            outcome = Self.ingest(message, into: accumulator)
            if case .refused(let kind) = outcome, (accumulator.accumulatedBytes, accumulator.pushCount) != before {
                throw FuzzViolation("push \(selector) of a sequence refused (\(kind)) changed the accumulator's counts")
            }
            if outcome == .accepted { anyAccepted = true }
        }
        return anyAccepted ? .accepted : outcome
    }

    /// `bytes` cut at every `sequenceSeparator`.
    static func parts(_ bytes: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>] {
        let all = Array(bytes), separator = sequenceSeparator
        var parts: [ArraySlice<UInt8>] = []
        var start = 0, i = 0
        while i + separator.count <= all.count {
            if all[i ..< i + separator.count].elementsEqual(separator) {
                parts.append(all[start ..< i])
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(all[start...])
        return parts
    }

    /// The bytes of `tenant`'s service datasets in `object` (which verified), in order.
    private static func datasets(of tenant: ByteString, in object: [UInt8]) -> [[UInt8]] {
        object.withUnsafeBytes { raw in
            guard let layout = try? SegmentObjectReader.open(raw) else { return [] }
            return layout.datasets.filter { $0.tenant == tenant && $0.format == .services }.map { Array(raw[$0.range]) }
        }
    }

    /// The push `profile` input makes of its bytes: also a seed for `push` input.
    public static func push(profile: [UInt8], tenant: ByteString = tenant) -> [UInt8] {
        PushRequestMessage(tenantID: tenant, labels: labels, profile: profile, profileID: Array(0 ..< 16), shard: 1,
                           annotations: [("fuzz", "annotation")]).encode()
    }

    private static func ingest(_ message: [UInt8], into accumulator: ShardAccumulator) -> Outcome {
        var outcome = Outcome.accepted
        message.withUnsafeBytes { outcome = ingest($0, into: accumulator) }
        return outcome
    }

    private static func ingest(_ message: UnsafeRawBufferPointer, into accumulator: ShardAccumulator) -> Outcome {
        do throws(PushError) {
            try accumulator.ingest(PushRequestView(message))
            return .accepted
        } catch {
            return .refused(error.kind)
        }
    }

    /// A fixed segment id and host: the same data flushes to the same bytes.
    private static func flush(_ accumulator: ShardAccumulator, into w: inout ByteWriter) -> BlockMeta? {
        accumulator.flush(segmentID: ULID(timeMs: 1_700_000_000_000, entropy: Array(repeating: 7, count: 10)),
                          shard: 1, createdBy: "fuzz", into: &w)
    }
}
