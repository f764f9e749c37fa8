import BinaryCoding
import Foundation
import Pprof
import Testing
import TestSupport
@testable import LoadGen

@Suite struct CorpusAndPushTests {
    static let corpus: Corpus = try! Corpus.load(directory: TestData.pprofDirectory.path)

    /// The three files the server's accumulator refuses (AccumulatorTests.RejectionTests) are
    /// skipped with its reason; every other file is kept.
    @Test func filesTheServerRefusesAreSkipped() throws {
        let corpus = Self.corpus
        #expect(Set(corpus.skipped.map(\.name)) == ["dotnet-pprof-3.pb.gz", "dotnet.labels.pprof", "pyspy-1.pb.gz"])
        #expect(corpus.profiles.count == (try TestData.pprofFiles()).count - 3)
        #expect(corpus.skipped.allSatisfy { !$0.reason.isEmpty })
        #expect(Corpus.prepare(name: "garbage", bytes: [1, 2, 3]).isFailure)
    }

    /// A profile without a non-zero value would be answered OK and store nothing: left out, so
    /// that `--audit` counts every push answered OK as one it must find.
    @Test func aProfileThatStoresNoRowIsSkipped() throws {
        let bytes = [UInt8](try Data(contentsOf: TestData.pprofDirectory.appendingPathComponent("profile_python")))
        let decoder = PprofDecoder()
        let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20)
        var profile = try bytes.withUnsafeBytes { raw in
            try decoder.decode(try inflater.inflate(raw))
            return PprofProfile(decoder)
        }
        #expect((try? Corpus.prepare(name: "python", bytes: PprofEncoder.encode(profile)).get()) != nil)
        for i in profile.samples.indices { profile.samples[i].values = profile.samples[i].values.map { _ in 0 } }
        guard case .failure(let refusal) = Corpus.prepare(name: "zeros", bytes: PprofEncoder.encode(profile)) else {
            Issue.record("a profile of zeros was kept")
            return
        }
        #expect(refusal.message == "no sample has a non-zero value: a push of it stores no profile")
    }

    /// `--normalize`: profiles as a distributor forwards them. The stub mapping lets the two
    /// labelled profiles with unmapped locations in; no sample keeps a numeric label.
    @Test func aNormalizedCorpusTakesWhatADistributorWouldForward() throws {
        let corpus = try Corpus.load(directory: TestData.pprofDirectory.path, normalize: true)
        #expect(corpus.skipped.map(\.name) == ["dotnet-pprof-3.pb.gz"])
        #expect(corpus.profiles.count == Self.corpus.profiles.count + 2)
        let decoder = PprofDecoder()
        for p in corpus.profiles {
            try p.body.withUnsafeBytes { try decoder.decode($0) }
            #expect((0 ..< decoder.sampleCount).allSatisfy { s in decoder.labels(ofSample: s).allSatisfy { $0.str != 0 } }, "\(p.name)")
        }
        let heap = try #require(corpus.profiles.first { $0.name == "heap" })
        let rawHeap = try #require(Self.corpus.profiles.first { $0.name == "heap" })
        #expect(heap.body.count < rawHeap.body.count, "heap's numeric labels are gone")
    }

    @Test func payloadsCarryTheGivenTimeAndTheSameProfile() throws {
        let corpus = Self.corpus
        let now: Int64 = 1_764_000_000_123_456_789
        let raw = PayloadSet(corpus: corpus, timeNanos: now, compression: .none)
        let gzip = PayloadSet(corpus: corpus, timeNanos: now, compression: .gzip)
        let decoder = PprofDecoder()
        let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20)
        for i in 0 ..< corpus.profiles.count {
            // The body alone has no time; the payload has ours.
            try corpus.profiles[i].body.withUnsafeBytes { try decoder.decode($0) }
            #expect(decoder.timeNanos == 0)
            let sampleCount = decoder.sampleCount
            try raw.profiles[i].withUnsafeBytes { try decoder.decode($0) }
            #expect(decoder.timeNanos == now && decoder.sampleCount == sampleCount)
            #expect(raw.rawSizes[i] == raw.profiles[i].count)
            #expect(gzip.profiles[i].prefix(3) == [0x1F, 0x8B, 0x08])
            let same = try gzip.profiles[i].withUnsafeBytes { Array(try inflater.inflate($0)) == raw.profiles[i] }
            #expect(same, "\(corpus.profiles[i].name)")
        }
    }

    @Test func metricNamesFollowTheSampleTypes() {
        #expect(Corpus.metricName(sampleTypes: ["samples", "cpu"]) == "process_cpu")
        #expect(Corpus.metricName(sampleTypes: ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]) == "memory")
        #expect(Corpus.metricName(sampleTypes: ["wall"]) == "wall")
    }

    @Test func pushesDecodeAsTheServerReadsThem() throws {
        let shape = WorkloadShape(tenants: 3, services: 2, labelCardinality: 5, extraLabelName: "instance", shards: 4)
        var builder = PushBuilder(shape: shape, seed: 1)
        let payloads = PayloadSet(corpus: Self.corpus, timeNanos: 1, compression: .gzip)
        var ids = Set<[UInt8]>()
        var shards = Set<UInt32>(), tenants = Set<[UInt8]>(), extras = Set<[UInt8]>()
        for _ in 0 ..< 400 {
            let built = builder.build(from: payloads)
            try builder.writer.bytes.withUnsafeBytes { raw in
                let view = try PushRequestView(raw)
                #expect(view.shard == built.shard && built.shard < 4)
                #expect(payloads.profiles.contains(Array(view.profile)))
                #expect(view.profile.count == built.sentProfileBytes)
                let id = Array(view.profileID)
                #expect(id[6] >> 4 == 4 && id[8] >> 6 == 2)
                // As the profiles table's ID column holds it: the first byte is the most significant.
                #expect(built.profileID == UInt128(view.profileIDHalves.high) << 64 | UInt128(view.profileIDHalves.low))
                #expect(built.profileID >> 120 == UInt128(id[0]) && built.profileID & 0xFF == UInt128(id[15]))
                ids.insert(id)
                shards.insert(view.shard)
                tenants.insert(Array(view.tenantID))
                let labels = view.labels.map { (Array($0.name), Array($0.value)) }
                let names = labels.map { String(decoding: $0.0, as: UTF8.self) }
                #expect(names == ["__delta__", "__name__", "instance", "service_name"])
                extras.insert(labels[2].1)
            }
        }
        #expect(ids.count == 400)
        #expect(shards == [0, 1, 2, 3])
        #expect(tenants.count == 3 && extras.count == 5)
    }

    @Test func oneTenantIsAnonymousAndNoExtraLabelByDefault() throws {
        var builder = PushBuilder(shape: WorkloadShape(), seed: 2)
        _ = builder.build(from: PayloadSet(corpus: Self.corpus, timeNanos: 1, compression: .none))
        try builder.writer.bytes.withUnsafeBytes { raw in
            let view = try PushRequestView(raw)
            #expect(Array(view.tenantID) == Array("anonymous".utf8))
            #expect(view.labels.map { String(decoding: $0.name, as: UTF8.self) } == ["__delta__", "__name__", "service_name"])
        }
    }

    @Test func theBoardHandsOutTheNewestSet() {
        let first = PayloadSet(corpus: Self.corpus, timeNanos: 1, compression: .none)
        let board = PayloadBoard(first)
        #expect(board.latest().0 === first)
        let second = PayloadSet(corpus: Self.corpus, timeNanos: 2, compression: .none)
        board.publish(second)
        #expect(board.generation == 1 && board.latest().0 === second)
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { true } else { false } }
}
