import Arena
import BinaryCoding
import Pprof
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import Accumulator

/// A refused push throws the typed error and leaves the accumulator exactly as it was: the
/// flushed object is byte-identical to a run without the bad push (ingest-and-ops.md §1.3).
@Suite struct RejectionTests {
    static let labels: [(name: ByteString, value: ByteString)] = [("__name__", "cpu"), ("service_name", "svc")]

    static func goodPushes() throws -> [TestPush] {
        [
            TestPush(tenant: "t1", labels: labels, profile: try corpusFile("cpu-exemplars.pb.gz"), id: profileID(1)),
            TestPush(tenant: "t1", labels: labels, profile: try corpusFile("profile_nodejs"), id: profileID(2)),
        ]
    }

    /// Runs the good pushes with `bad` between them; returns the object and the errors.
    static func run(bad: [TestPush], limits: AccumulatorLimits = AccumulatorLimits()) throws -> ([UInt8], [PushError]) {
        let acc = ShardAccumulator(limits: limits)
        var errors: [PushError] = []
        let good = try goodPushes()
        try acc.ingest(good[0])
        for b in bad {
            let (bytes, pushes) = (acc.accumulatedBytes, acc.pushCount)
            do throws(PushError) {
                try acc.ingest(b)
            } catch {
                errors.append(error)
            }
            #expect(acc.accumulatedBytes == bytes && acc.pushCount == pushes)
        }
        try acc.ingest(good[1])
        return (try #require(acc.flushObject()).bytes, errors)
    }

    static func expectRefused(_ bad: TestPush, _ kind: PushError.Kind, limits: AccumulatorLimits = AccumulatorLimits()) throws {
        let (clean, _) = try run(bad: [], limits: limits)
        let (dirty, errors) = try run(bad: [bad], limits: limits)
        #expect(errors.map(\.kind) == [kind], "\(errors)")
        #expect(dirty == clean)
    }

    static func encoded(_ edit: (inout PprofProfile) -> Void, from file: String = "profile_nodejs") throws -> [UInt8] {
        var p = try decodeProfile(try corpusFile(file))
        edit(&p)
        return PprofEncoder.encode(p)
    }

    @Test func emptyTenantIsInvalidArgument() throws {
        try Self.expectRefused(TestPush(tenant: "", labels: Self.labels, profile: try corpusFile("profile_nodejs"), id: profileID(3)), .missingTenant)
    }

    @Test func profileIDOtherThan16BytesIsInvalidArgument() throws {
        let p = try corpusFile("profile_nodejs")
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: p, id: Array(profileID(3).prefix(15))), .invalidProfileID)
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: p, id: profileID(3) + [0]), .invalidProfileID)
    }

    @Test func undecodableProfilesAreInvalidArgument() throws {
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: [], id: profileID(3)), .gzipHeader)
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: [1, 2, 3], id: profileID(3)), .gzipHeader)
        let garbage: [UInt8] = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x02, 0x03, 0x04, 0x05]
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: garbage, id: profileID(3)), .profileUndecodable)
        var gz = try corpusFile("nodejs-wall.pb.gz")
        gz[gz.count / 2] ^= 0xFF
        let (_, errors) = try Self.run(bad: [TestPush(tenant: "t1", labels: Self.labels, profile: gz, id: profileID(3))])
        #expect(errors.count == 1)
    }

    @Test func oversizedProfileIsRefused() throws {
        let limits = AccumulatorLimits(profileBytesMax: 64 << 10)
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: try corpusFile("heap"), id: profileID(3)),
                               .decompressedSizeExceeded, limits: limits)
    }

    @Test func outOfRangeReferencesAreRefused() throws {
        let missingLocation = try Self.encoded { $0.samples[0].locationIDs.append(99_999) }
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: missingLocation, id: profileID(3)), .profileUndecodable)
        let badString = try Self.encoded { $0.functions[0].name = 1 << 40 }
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: badString, id: profileID(3)), .profileUndecodable)
        let shortValues = try Self.encoded { $0.samples[0].values.removeLast() }
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: shortValues, id: profileID(3)), .profileUndecodable)
        // symdb.md §11 check 5: every function has id 0, lines reference ids 1...41.
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: try corpusFile("dotnet-pprof-3.pb.gz"), id: profileID(3)),
                               .profileUndecodable)
    }

    /// A `__name__` from sample labels names the series' profile type, which the segment's
    /// metadata lists: one that is not UTF-8 is refused, whether it splits the profile (one
    /// sample carries it) or every sample carries it (one group, no split).
    @Test(arguments: [false, true])
    func sampleLabelNameThatIsNotUTF8IsRefused(onEverySample: Bool) throws {
        let profile = try Self.encoded { p in
            let key = Int64(p.stringTable.count), value = key + 1
            p.stringTable += ["__name__", ByteString([0x63, 0xFF])]
            for i in p.samples.indices where onEverySample || i == 0 {
                p.samples[i].labels.append(SampleLabel(key: key, str: value))
            }
        }
        var noName = Self.labels
        noName.removeFirst()
        try Self.expectRefused(TestPush(tenant: "t1", labels: noName, profile: profile, id: profileID(3)), .profileUndecodable)
    }

    /// profiles-parquet.md §2.2 e: a profile split by sample labels whose locations have no
    /// mapping makes upstream's exporter panic; the head refuses it before any change.
    @Test(arguments: ["dotnet.labels.pprof", "pyspy-1.pb.gz"])
    func splitProfileWithoutMappingsIsRefused(_ file: String) throws {
        try Self.expectRefused(TestPush(tenant: "t1", labels: Self.labels, profile: try corpusFile(file), id: profileID(3)), .profileUndecodable)
    }

    @Test func limitsRefuseWithResourceExhausted() throws {
        let big = TestPush(tenant: "t1", labels: Self.labels, profile: try corpusFile("cpu_go_truncated_1.pb.gz"), id: profileID(3))
        try Self.expectRefused(big, .requestTooLarge, limits: AccumulatorLimits(samplesPerProfileMax: 500))
        // The good pushes may take 0.6 MB of columns at most, the big one 1.9 MB.
        try Self.expectRefused(big, .requestTooLarge, limits: AccumulatorLimits(accumulatedBytesMax: 1 << 20))
        let otherDataset = TestPush(tenant: "t3", labels: Self.labels, profile: try corpusFile("profile_rust"), id: profileID(3))
        try Self.expectRefused(otherDataset, .requestTooLarge, limits: AccumulatorLimits(datasetsMax: 1))
        var manyLabels = otherDataset
        manyLabels.tenant = "t1"
        for i in 0 ..< 40 { manyLabels.labels.append((ByteString("l\(i)"), "v")) }
        try Self.expectRefused(manyLabels, .requestTooLarge, limits: AccumulatorLimits(labelsPerSeriesMax: 32))
        #expect(PushError(.requestTooLarge, "").statusCode == GRPCStatusCode.resourceExhausted)
    }

    /// The shard's sample arena is sized at start-up (`samplesMax`): a push that may not fit in
    /// what is left is refused whole, while the same pushes fit when it is just large enough.
    @Test func sampleArenaBoundRefusesWithResourceExhausted() throws {
        var room = 0
        for p in try Self.goodPushes() {
            let profile = try decodeProfile(p.profile)
            room += profile.samples.count * profile.sampleTypes.count
        }
        let big = TestPush(tenant: "t1", labels: Self.labels, profile: try corpusFile("cpu_go_truncated_1.pb.gz"), id: profileID(3))
        try Self.expectRefused(big, .requestTooLarge, limits: AccumulatorLimits(samplesMax: room))
        let fits = ShardAccumulator(limits: AccumulatorLimits(samplesMax: room))
        for p in try Self.goodPushes() { try fits.ingest(p) }
        #expect(fits.samples.count > 0 && fits.samples.count <= room)
    }

    /// Seeded mutations of real profiles never crash; whatever is accepted reads back with
    /// every layout invariant intact.
    @Test func fuzzedProfilesNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5EED_ACC0)
        // Whole-profile and split paths: the last two carry sample labels.
        let sources = try ["profile_nodejs", "no_addr_no_line.pb.gz", "nodejs-wall.pb.gz", "cpu-exemplars.pb.gz", "pyspy-1.pb.gz"].map {
            PprofEncoder.encode(try decodeProfile(try corpusFile($0)).withStubMapping())
        }
        let acc = ShardAccumulator()
        var accepted = 0
        for i in 0 ..< 500 {
            var bytes = sources[i % sources.count]
            switch rng.next() % 4 {
            case 0: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            case 1:
                for _ in 0 ..< 1 + Int(rng.next() % 4) { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            case 2: bytes[Int(rng.next() % UInt64(bytes.count))] = 0xFF
            default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(bytes.count)))
            }
            let labels: [(name: ByteString, value: ByteString)] = [("service_name", ByteString("s\(i % 3)"))]
            let (charged, pushes) = (acc.accumulatedBytes, acc.pushCount)
            if (try? acc.ingest(TestPush(tenant: "fuzz", labels: labels, profile: bytes, id: profileID(UInt8(i % 256))))) != nil {
                accepted += 1
            } else {
                #expect(acc.accumulatedBytes == charged && acc.pushCount == pushes)
            }
            if i % 100 == 99, let (_, object) = acc.flushObject() {
                _ = try readBack(object)
            }
        }
        #expect(accepted > 0)
    }
}

extension RejectionTests {
    /// A shard whose sample arena could not reserve its address space (e.g. strict overcommit)
    /// refuses pushes with samples with RESOURCE_EXHAUSTED naming the cause, instead of
    /// stopping the process, and holds nothing.
    @Test func failedSampleReservationRefusesPushesWithoutCrashing() throws {
        let limits = AccumulatorLimits()
        let arena = SampleArena(capacity: limits.samplesMax) { _ in
            errno = ENOMEM
            return nil
        }
        #expect(arena.capacity == 0 && arena.remaining == 0 && arena.reservationError == ENOMEM)
        let acc = ShardAccumulator(limits: limits, workspace: nil, samples: arena,
                                   columns: ColumnArena(capacityBytes: limits.accumulatedBytesMax))
        for p in try Self.goodPushes() {
            #expect {
                try acc.ingest(p)
            } throws: { error in
                guard let e = error as? PushError else { return false }
                return e.kind == .requestTooLarge && e.message.contains("no sample arena")
            }
        }
        #expect(acc.pushCount == 0 && acc.accumulatedBytes == 0)
    }
}
