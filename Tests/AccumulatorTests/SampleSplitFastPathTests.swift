import BinaryCoding
import Pprof
import Testing
import TestSupport
@testable import Accumulator

/// The split's one-label-set path (every sample labelled like sample 0: no class hashing,
/// sort or placement) must give exactly what the general path gives, and must not apply
/// when one sample differs.
@Suite struct SampleSplitFastPathTests {
    static let span1: ByteString = "0102030405060708", span2: ByteString = "1112131415161718"

    /// The split of one profile: (took the one-label-set path, group count, whole profile).
    func split(_ stored: [UInt8]) throws -> (one: Bool, groups: Int, whole: Bool) {
        let decoder = PprofDecoder(), inflater = ProfileInflater(maxDecompressedBytes: 64 << 20)
        try stored.withUnsafeBytes { raw in
            try decoder.decode(try inflater.inflate(raw))
            try decoder.resolveReferences()
        }
        var split = SampleSplit(labelBytesMax: 1 << 20)
        let p = decoder.tables
        split.split(p, keys: SpecialLabelKeys(p), requestLabels: LabelBuilder())
        return (split.hasOneLabelSet, split.groupCount, split.isWholeProfile)
    }

    func object(_ spec: ProfileSpec) throws -> [UInt8] {
        let acc = ShardAccumulator()
        try acc.ingest(TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: spec.encoded(), id: profileID(1)))
        return try #require(acc.flushObject()).bytes
    }

    /// Samples with shared stacks (merged within the one group) and the given label lists.
    func spec(_ labels: [[(ByteString, ByteString)]]) -> ProfileSpec {
        var spec = ProfileSpec(types: [("alloc", "count"), ("alloc", "bytes")])
        for (i, l) in labels.enumerated() {
            spec.samples.append(([UInt64(i % 3 + 1), UInt64(i % 2 + 4)], [Int64(i + 1), Int64(i % 2)], l))
        }
        return spec
    }

    /// One label set listed in sample 0's order everywhere takes the fast path; the same
    /// profile with one sample listing its labels in another order takes the general path;
    /// both objects are byte-identical.
    @Test func oneLabelSetMatchesTheGeneralPath() throws {
        let same: [(ByteString, ByteString)] = [("pod", "a"), ("env", "dev")]
        let fast = spec(Array(repeating: same, count: 9))
        var general = fast
        general.samples[4].labels = [("env", "dev"), ("pod", "a")]
        #expect(try split(fast.encoded()) == (true, 1, false))
        #expect(try split(general.encoded()) == (false, 1, false))
        #expect(try object(fast) == object(general))
    }

    /// Span and trace labels are not grouped on: differing span values at the same position
    /// keep the fast path, and spans and traces come out as on the general path.
    @Test func spanLabelsAtTheSamePositionKeepTheFastPath() throws {
        let labels: [[(ByteString, ByteString)]] = (0 ..< 8).map { i in
            [("pod", "a"), i % 2 == 0 ? ("span_id", Self.span1) : ("trace_id", "000102030405060708090a0b0c0d0e0f")]
        }
        let fast = spec(labels)
        var general = fast
        general.samples[3].labels = [general.samples[3].labels[1], ("pod", "a")]
        #expect(try split(fast.encoded()) == (true, 1, false))
        #expect(try split(general.encoded()) == (false, 1, false))
        #expect(try object(fast) == object(general))
    }

    /// A sample with another value, an extra label, or a grouped label where sample 0 has a
    /// span label: general path, and the groups it must find.
    @Test func oneDifferentSampleTakesTheGeneralPath() throws {
        let base: [(ByteString, ByteString)] = [("pod", "a")]
        var other = Array(repeating: base, count: 6)
        other[5] = [("pod", "b")]
        #expect(try split(spec(other).encoded()) == (false, 2, false))
        var extra = Array(repeating: base, count: 6)
        extra[2] = [("pod", "a"), ("env", "dev")]
        #expect(try split(spec(extra).encoded()) == (false, 2, false))
        var missing = Array(repeating: base, count: 6)
        missing[1] = []
        missing[2] = [("pod", "a"), ("pod", "a")]
        #expect(try split(spec(missing).encoded()) == (false, 2, false))  // a repeated pair merges with pod=a
        var spanFirst = Array(repeating: [("span_id", Self.span1), ("pod", "a")] as [(ByteString, ByteString)], count: 6)
        spanFirst[3] = [("pod", "a"), ("span_id", Self.span2)]
        #expect(try split(spec(spanFirst).encoded()) == (false, 1, false))
        // Every sample with only span labels: one empty grouping set, the whole profile (path c).
        #expect(try split(spec(Array(repeating: [("span_id", Self.span1)], count: 4)).encoded()) == (true, 1, true))
    }

    /// `heap_delta` (one numeric label per sample) is one group through path d; the samples of
    /// `go.cpu.labels.pprof` are labelled differently.
    @Test func numericLabelPerSampleIsOneGroup() throws {
        #expect(try split(corpusFile("heap_delta")) == (true, 1, false))
        let labelled = try split(corpusFile("go.cpu.labels.pprof"))
        #expect(!labelled.one && labelled.groups > 1)
    }

    /// Span/trace label loops are skipped only when the table spells none of `span_id`,
    /// `trace_id`, `profile_id` (renamed to a `span_id` past the table).
    @Test func idLabelLoopsAreSkippedOnlyWithoutIDKeys() throws {
        func mayHaveIDLabels(_ labels: [(ByteString, ByteString)]) throws -> Bool {
            let decoder = PprofDecoder()
            try spec([labels, labels]).encoded().withUnsafeBytes { raw in try decoder.decode(raw) }
            return SpecialLabelKeys(decoder.tables).mayHaveIDLabels
        }
        #expect(try !mayHaveIDLabels([("pod", "a")]))
        #expect(try mayHaveIDLabels([("pod", "a"), ("span_id", Self.span1)]))
        #expect(try mayHaveIDLabels([("trace_id", "000102030405060708090a0b0c0d0e0f")]))
        #expect(try mayHaveIDLabels([("profile_id", Self.span1)]))
    }

    /// Values are read from the profile until a merge sums some (then from the split's copy):
    /// a merging push, then one without merges in the same shard, each with its own values.
    @Test func valuesComeFromTheMergedCopyOnlyForItsPush() throws {
        let merging = ProfileSpec(samples: [
            ([1, 2], [10], [("pod", "a"), ("service_name", "other")]), ([1, 2], [5], [("pod", "a")]), ([3], [7], [("pod", "b")]),
        ])
        let plain = ProfileSpec(samples: [([1, 2], [100], [("pod", "a")]), ([3], [200], [("pod", "b")])])
        let acc = ShardAccumulator()
        for (i, spec) in [merging, plain].enumerated() {
            try acc.ingest(TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: spec.encoded(), id: profileID(UInt8(i))))
        }
        let object = try #require(acc.flushObject())
        let ds = try #require(try readDatasets(object.bytes).first)
        #expect(ds.columns.sampleValues.sorted() == [7, 15, 100, 200])
    }
}
