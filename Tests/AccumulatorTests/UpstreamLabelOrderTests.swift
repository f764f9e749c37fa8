import BinaryCoding
import Testing
@testable import Accumulator

/// Where upstream's grouping leaves its marks on what is stored (profiles-parquet.md §2.2 b,
/// §2.5): `GroupSamplesWithoutLabelsByKey` hides span and trace labels, and labels with key 0
/// when either name is missing from the table, then gives them back to the sample in
/// descending (key, str) order; the span, the trace and the merge key read them in that order.
@Suite struct UpstreamLabelOrderTests {
    static let base = HeadSemanticsTests.base

    func flush(_ spec: ProfileSpec, labels: [(name: ByteString, value: ByteString)] = base) throws -> ReadDataset {
        try #require(try HeadSemanticsTests().flushOne([TestPush(tenant: "t", labels: labels, profile: spec.encoded(), id: profileID(1))]).first)
    }

    /// A label with an empty name (Go's `pprof.Labels("", v)`) is not grouped on when the table
    /// lacks `trace_id` or `span_id`: the whole profile is one series, without a "" label.
    @Test func emptyNameLabelsAreHiddenWithoutSpanOrTraceNames() throws {
        let ds = try flush(ProfileSpec(samples: [([1], [10], [("", "v1")]), ([2], [20], [("", "v2")])]))
        #expect(ds.index.series.count == 1)
        #expect(!ds.index.series[0].labels.contains { $0.name.isEmpty })
        #expect(ds.columns.totalValue == [30])
    }

    /// With both names in the table nothing hides key 0: such labels group like any other.
    @Test func emptyNameLabelsGroupWhenSpanAndTraceNamesExist() throws {
        let ds = try flush(ProfileSpec(samples: [
            ([1], [10], [("", "v1")]), ([2], [20], [("", "v2")]),
            ([3], [5], [("span_id", "0102030405060708"), ("trace_id", "000102030405060708090a0b0c0d0e0f")]),
        ]))
        #expect(ds.index.series.count == 3)
        #expect(ds.columns.totalValue.sorted() == [5, 10, 20])
    }

    /// Of several valid span ids the one with the highest string index is stored, whatever the
    /// labels' order on the wire; an invalid one is passed over.
    @Test func spanWithTheHighestValidStringIndexWins() throws {
        let a: ByteString = "aaaaaaaaaaaaaaaa", b: ByteString = "bbbbbbbbbbbbbbbb"
        // Strings are interned in label order: the first value listed gets the lower index.
        for (labels, expected) in [([a, b], UInt64(0xBBBB_BBBB_BBBB_BBBB)), ([b, a], 0xAAAA_AAAA_AAAA_AAAA), ([a, "zz"], 0xAAAA_AAAA_AAAA_AAAA)] {
            let ds = try flush(ProfileSpec(samples: [([1], [1], labels.map { ("span_id", $0) })]))
            #expect(ds.columns.sampleSpanIDs == [expected])
        }
    }

    /// Groups whose label sets end up equal merge samples by (stack, trace, span), where the
    /// span is the lowest string index among a sample's span labels: a sample listing two
    /// spans merges with one listing only the lower of them.
    @Test func mergeKeyTakesTheLowestSpanIndex() throws {
        let low: ByteString = "0102030405060708", high: ByteString = "1112131415161718"
        let ds = try flush(ProfileSpec(samples: [
            ([1, 2], [10], [("pod", "a"), ("service_name", "other"), ("span_id", low), ("span_id", high)]),
            ([1, 2], [5], [("pod", "a"), ("span_id", low)]),
        ]))
        #expect(ds.index.series.count == 1)
        #expect(ds.columns.sampleValues == [15])
    }

    /// `LabelsBuilder.Reset`: a request label with an empty value deletes every label of its name.
    @Test func anEmptyRequestLabelDeletesItsName() throws {
        for pair in [[("tag", ""), ("tag", "x")], [("tag", "x"), ("tag", "")]] as [[(name: ByteString, value: ByteString)]] {
            let ds = try flush(ProfileSpec(samples: [([1], [1], [])]), labels: Self.base + pair)
            #expect(!ds.index.series[0].labels.contains { $0.name == "tag" })
        }
    }

    /// Upstream's head time bounds start at (MaxInt64, 0): a dataset of negative times ends at 0.
    @Test func negativeTimesLeaveTheMaximumAtZero() throws {
        var spec = ProfileSpec(samples: [([1], [1], [])])
        spec.timeNanos = -5_000_000
        let ds = try flush(spec)
        #expect(ds.layout.minTimeMs == -5 && ds.layout.maxTimeMs == 0)
    }

    /// `default_sample_type` is copied, never read as a string: any value is stored as sent.
    @Test func defaultSampleTypeIsStoredAsSent() throws {
        var spec = ProfileSpec(samples: [([1], [1], [])])
        spec.defaultSampleType = 99
        #expect(try flush(spec).columns.defaultSampleType == [99])
    }
}
