import Accumulator
import BinaryCoding
import Pprof
@testable import SegmentWriterService
import Testing

/// `-validation.max-profile-size-bytes=0` (upstream: no limit) lets through the profiles the
/// writer's own ceiling, the largest gRPC message, allows; a tenant limit still refuses them.
@Suite struct ProfileSizeCeilingTests {
    /// A raw pprof of about 6 MiB (one function with a long name): past the 4 MiB default, within
    /// the 100 MiB ceiling. Raw, since its gzip would pass the compression-ratio bound.
    static func largeProfile() -> [UInt8] {
        var p = PprofProfile()
        p.sampleTypes = [ValueTypeRef(type: p.intern("cpu"), unit: p.intern("nanoseconds"))]
        var mapping = MappingRecord()
        mapping.id = 1
        mapping.hasFunctions = true
        p.mappings = [mapping]
        var function = FunctionRecord()
        function.id = 1
        function.name = p.intern(ByteString(Array(repeating: UInt8(ascii: "f"), count: 6 << 20)))
        p.functions = [function]
        p.locations = [.init(id: 1, mappingID: 1, lines: [LineRecord(functionID: 1, line: 1)])]
        p.samples = [.init(locationIDs: [1], values: [1], labels: [])]
        p.timeNanos = 1_700_000_000_000_000_000
        return PprofEncoder.encode(p)
    }

    static func ingest(_ profile: [UInt8], limits: AccumulatorLimits) throws {
        let message = PushRequestMessage(tenantID: "t", labels: [("__name__", "cpu"), ("service_name", "svc")],
                                         profile: profile, profileID: Array(repeating: 1, count: 16), shard: 1).encode()
        let accumulator = ShardAccumulator(limits: limits)
        try message.withUnsafeBytes { raw in _ = try accumulator.ingest(try PushRequestView(raw)) }
    }

    @Test func zeroTakesAProfilePastTheDefaultWithinTheCeiling() throws {
        let profile = Self.largeProfile()
        #expect(profile.count > 6 << 20)
        let unlimited = try ConfigLoader.load(arguments: ["-validation.max-profile-size-bytes=0"]) { _ in "" }.config
        #expect(unlimited.profileBytesMax == unlimited.server.grpcMaxRecvMsgSizeBytes)
        try Self.ingest(profile, limits: unlimited.accumulatorLimits)

        let defaults = try ConfigLoader.load(arguments: []) { _ in "" }.config
        #expect { try Self.ingest(profile, limits: defaults.accumulatorLimits) } throws: {
            ($0 as? PushError)?.kind == .decompressedSizeExceeded
        }
    }
}
