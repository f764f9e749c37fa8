import Arena
import BinaryCoding
import Pprof
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import Accumulator

/// The shard's columns live in one arena reserved at start-up: a push is admitted only when
/// the most it can take fits, the arena starts over after a flush, and a steady stream of
/// segments takes the same room again instead of growing.
@Suite struct ColumnArenaAdmissionTests {
    static let files = ["cpu-exemplars.pb.gz", "profile_nodejs", "cpu_go_truncated_1.pb.gz", "heap", "dotnet.labels.pprof",
                        "profile_python", "profile_rust", "single_group_with_optional_span_id.pb.gz"]

    /// Mixed tenants, services and request labels, split and whole profiles, with annotations.
    static func pushes() throws -> [TestPush] {
        var pushes: [TestPush] = []
        for (i, file) in files.enumerated() {
            var profile = try decodeProfile(try corpusFile(file))
            profile = profile.withStubMapping()
            let labels: [(name: ByteString, value: ByteString)] = [
                ("__name__", "process_cpu"), ("service_name", ByteString("svc-\(i % 3)")), ("pod", ByteString("pod-\(i)")),
            ]
            pushes.append(TestPush(tenant: ByteString("tenant-\(i % 2)"), labels: labels, profile: PprofEncoder.encode(profile),
                                   id: profileID(UInt8(i)), annotations: [("note", ByteString("push \(i)"))]))
        }
        return pushes
    }

    @Test func everyAdmittedPushTakesAtMostItsBound() throws {
        let acc = ShardAccumulator()
        for segment in 0 ..< 3 {
            for push in try Self.pushes() {
                let before = acc.columns.usedBytes
                try acc.ingest(push)
                let taken = acc.columns.usedBytes - before
                #expect(taken <= acc.admittedArenaBytes, "segment \(segment): took \(taken), bound \(acc.admittedArenaBytes)")
            }
            #expect(acc.flushObject() != nil)
        }
    }

    /// An arena with exactly the room the bound asks for never traps: the push that does not
    /// fit is refused, the ones before it are kept.
    @Test func aTightArenaRefusesInsteadOfOverflowing() throws {
        let pushes = try Self.pushes()
        for capacity in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
            let acc = ShardAccumulator(limits: AccumulatorLimits(accumulatedBytesMax: capacity, samplesMax: 1 << 22))
            var accepted = 0
            for push in pushes {
                let (bytes, count) = (acc.accumulatedBytes, acc.pushCount)
                do throws(PushError) {
                    try acc.ingest(push)
                    accepted += 1
                } catch {
                    #expect(error.kind == .requestTooLarge && error.message.contains("shard columns"), "\(error)")
                    #expect(acc.accumulatedBytes == bytes && acc.pushCount == count)
                }
                #expect(acc.columns.usedBytes <= acc.columns.capacityBytes)
            }
            if accepted > 0 { #expect(acc.flushObject() != nil) }
        }
    }

    /// After a flush each active dataset takes blocks as large as its last segment needed:
    /// the same segment again leaves nothing behind (no growth), and no page beyond the first
    /// segment's is touched.
    @Test func aRepeatedSegmentTakesNoMoreRoom() throws {
        let acc = ShardAccumulator()
        let pushes = try Self.pushes()
        for push in pushes { try acc.ingest(push) }
        let firstSegment = acc.columns.usedBytes
        _ = acc.flushObject()
        let retaken = acc.columns.usedBytes
        #expect(retaken > 0 && retaken < firstSegment)
        for push in pushes { try acc.ingest(push) }
        #expect(acc.columns.usedBytes == retaken, "a segment like the last one grew a column")
        _ = acc.flushObject()
        #expect(acc.columns.highWaterBytes == firstSegment)
        // Datasets idle for a segment are released, and so is their room.
        try acc.ingest(pushes[0])
        _ = acc.flushObject()
        _ = acc.flushObject()
        #expect(acc.columns.usedBytes < retaken)
    }

    @Test func failedColumnReservationRefusesPushesWithoutCrashing() throws {
        let limits = AccumulatorLimits()
        let columns = ColumnArena(capacityBytes: limits.accumulatedBytesMax) { _ in
            errno = ENOMEM
            return nil
        }
        #expect(columns.capacityBytes == 0 && columns.reservationError == ENOMEM)
        let acc = ShardAccumulator(limits: limits, workspace: nil, samples: SampleArena(capacity: limits.samplesMax), columns: columns)
        for push in try Self.pushes() {
            #expect {
                try acc.ingest(push)
            } throws: { error in
                guard let e = error as? PushError else { return false }
                return e.kind == .requestTooLarge && e.message.contains("no column arena")
            }
        }
        #expect(acc.pushCount == 0 && acc.accumulatedBytes == 0)
    }

    /// One long string under many distinct label sets: each group's set copies it, so the sets
    /// would need far more memory than the profile holds. The push is refused, not allowed
    /// to exhaust memory (or overflow the sets' 32-bit offsets).
    @Test func labelSetsLargerThanTheirBoundAreRefused() throws {
        let long = ByteString(Array(repeating: UInt8(ascii: "x"), count: 64 << 10))
        var spec = ProfileSpec()
        for i in 0 ..< 200 {
            spec.samples.append((locations: [1], values: [1], labels: [("big", long), ("n", ByteString("\(i)"))]))
        }
        let push = TestPush(tenant: "t", labels: [("__name__", "cpu"), ("service_name", "svc")], profile: spec.encoded(), id: profileID(1))
        let limits = AccumulatorLimits(profileBytesMax: 1 << 20)
        #expect(IngestWorkspace.labelBytesMax(profileBytesMax: limits.profileBytesMax) < 200 * long.bytes.count)
        let acc = ShardAccumulator(limits: limits)
        #expect {
            try acc.ingest(push)
        } throws: { error in
            guard let e = error as? PushError else { return false }
            return e.kind == .requestTooLarge && e.message.contains("label sets")
        }
        #expect(acc.pushCount == 0 && acc.accumulatedBytes == 0)
        // Fewer groups fit, and the same workspace keeps working.
        spec.samples.removeLast(190)
        try acc.ingest(TestPush(tenant: "t", labels: push.labels, profile: spec.encoded(), id: profileID(2)))
        #expect(acc.pushCount == 1)
    }

    /// A deep stack sampled under many label sets: one tree node per frame would not fit the
    /// arena, the nodes the stacks really add do, so the push is admitted (before, it was
    /// refused however empty the shard) and reads back exactly. As many distinct deep stacks
    /// are still refused.
    @Test func aDeepStackUnderManyLabelSetsIsAdmittedByTheNodesItAdds() throws {
        let deep = (0 ..< 1000).map { UInt64($0 % 4 + 1) }
        func push(_ stack: (Int) -> [UInt64]) -> TestPush {
            var spec = ProfileSpec()
            for i in 0 ..< 400 {
                spec.samples.append((locations: stack(i), values: [Int64(i + 1)], labels: [("request", ByteString("r\(i)"))]))
            }
            return TestPush(tenant: "t", labels: [("__name__", "process_cpu"), ("service_name", "svc")], profile: spec.encoded(),
                            id: profileID(7))
        }
        // 400 000 frames: at least 12 bytes each as one node per frame, more than the arena.
        let limits = AccumulatorLimits(accumulatedBytesMax: 2 << 20, samplesMax: 1 << 16)
        let acc = ShardAccumulator(limits: limits)
        let repeated = push { _ in deep }
        try acc.ingest(repeated)
        #expect(acc.admittedArenaBytes < acc.columns.capacityBytes / 2)
        var expected = FoldedSums()
        try referenceFold(repeated, into: &expected)
        let object = try #require(acc.flushObject())
        #expect(try readBack(object.bytes) == expected)

        // A root-most frame of its own per sample: 400 000 distinct prefixes.
        #expect {
            try acc.ingest(push { i in deep + [UInt64(5 + i)] })
        } throws: { error in
            guard let e = error as? PushError else { return false }
            return e.kind == .requestTooLarge && e.message.contains("shard columns")
        }
        #expect(acc.pushCount == 0 && acc.accumulatedBytes == 0)
    }

    /// Random profiles of deep, repeated and shared stacks under a few label sets, into arenas
    /// from far too small to roomy: whenever the counted bound admits a push, it takes no more
    /// than that bound (`ColumnArena.allocate` traps on overflow, so finishing is the check).
    @Test func countedBoundsHoldForRandomStacksInTightArenas() throws {
        var rng = SplitMix64(seed: 41)
        var counted = 0
        for round in 0 ..< 24 {
            var spec = ProfileSpec()
            let locations = 2 + rng.next() % 40, shapes = 1 + Int(rng.next() % 12)
            let stacks = (0 ..< shapes).map { _ in (0 ..< 1 + rng.next() % 300).map { _ in 1 + rng.next() % locations } }
            for _ in 0 ..< 20 + rng.next() % 300 {
                var stack = stacks[Int(rng.next() % UInt64(shapes))]
                if rng.next() % 3 == 0 { stack.insert(1 + rng.next() % locations, at: 0) }
                spec.samples.append((locations: stack, values: [Int64(1 + rng.next() % 9)],
                                     labels: [("pod", ByteString("p\(rng.next() % 4)"))]))
            }
            let push = TestPush(tenant: "t", labels: [("__name__", "process_cpu"), ("service_name", "svc")],
                                profile: spec.encoded(), id: profileID(UInt8(round)))
            let frames = spec.samples.reduce(0) { $0 + $1.locations.count }
            for capacity in [96 << 10, 192 << 10, 384 << 10, 768 << 10, 1536 << 10] {
                let acc = ShardAccumulator(limits: AccumulatorLimits(accumulatedBytesMax: capacity, samplesMax: 1 << 16))
                for _ in 0 ..< 3 {
                    let before = acc.columns.usedBytes
                    do throws(PushError) {
                        try acc.ingest(push)
                    } catch {
                        #expect(error.kind == .requestTooLarge, "\(error)")
                        break
                    }
                    #expect(acc.columns.usedBytes - before <= acc.admittedArenaBytes)
                    // One node per frame takes 12 bytes a frame at least: past the arena, only
                    // the counted bound admits the push.
                    if 12 * frames > capacity { counted += 1 }
                }
                #expect(acc.columns.usedBytes <= acc.columns.capacityBytes)
            }
        }
        #expect(counted >= 20, "\(counted) pushes admitted by the counted bound")
    }

    @Test func earlyFlushWhenDataOrArenaFillsUp() throws {
        let acc = ShardAccumulator(limits: AccumulatorLimits(accumulatedBytesMax: 16 << 20, samplesMax: 1 << 22))
        #expect(!acc.shouldFlushEarly(segmentBytesMax: 1 << 30))
        try acc.ingest(try Self.pushes()[0])
        #expect(acc.shouldFlushEarly(segmentBytesMax: acc.accumulatedBytes))
        #expect(!acc.shouldFlushEarly(segmentBytesMax: acc.accumulatedBytes + 1))
        var pushes = 0
        while !acc.shouldFlushEarly(segmentBytesMax: 1 << 30) {
            try acc.ingest(TestPush(tenant: ByteString("t\(pushes)"), labels: [("service_name", "s")],
                                    profile: try corpusFile("cpu_go_truncated_1.pb.gz"), id: profileID(1)))
            pushes += 1
        }
        #expect(acc.columns.usedBytes * 2 >= acc.columns.capacityBytes && pushes > 1)
    }
}
