import BinaryCoding
import SegmentObject
import Testing
@testable import Accumulator

/// Objects the writer makes from unusual but valid pushes pass `segtool verify`'s deep check
/// (`SegmentObjectVerifier`), as upstream's writer makes them too.
@Suite struct VerifiedEdgeCaseTests {
    static func verified(_ push: TestPush) throws -> VerifiedSegmentObject {
        let acc = ShardAccumulator()
        try acc.ingest(push)
        let object = try #require(acc.flushObject())
        return try object.bytes.withUnsafeBytes { try SegmentObjectVerifier.verify($0, meta: object.meta) }
    }

    /// Profiles all before 1970: the dataset's latest time stays 0 (it starts there upstream),
    /// while the TSDB index holds the real, negative bounds.
    @Test func aProfileBefore1970() throws {
        var spec = ProfileSpec()
        spec.samples = [(locations: [1, 2], values: [5], labels: [])]
        spec.timeNanos = -1_500_000_123
        let v = try Self.verified(TestPush(tenant: "t", labels: [("__name__", "cpu"), ("service_name", "svc")],
                                           profile: spec.encoded(), id: profileID(1)))
        let d = try #require(v.datasets.first)
        #expect(d.index.from == -1_500_000_123 && d.index.through == -1_500_000_123)
        #expect(d.layout.minTimeMs == -1500 && d.layout.maxTimeMs == 0)
    }

    /// The request's service_name deleted by a duplicate empty pair: the dataset keeps the
    /// request's name, the series takes a sample label's.
    @Test func aSeriesNamedBySampleLabelInADatasetNamedByTheRequest() throws {
        var spec = ProfileSpec()
        spec.samples = [(locations: [1, 2], values: [5], labels: [("service_name", "other")])]
        let v = try Self.verified(TestPush(tenant: "t", labels: [("__name__", "cpu"), ("service_name", "svc"), ("service_name", "")],
                                           profile: spec.encoded(), id: profileID(1)))
        let d = try #require(v.datasets.first { $0.index.series.count > 0 && $0.profiles != nil })
        #expect(d.layout.name == "svc")
        let names = d.index.series.flatMap { $0.labels.filter { $0.name == "service_name" }.map(\.value) }
        #expect(names == ["other"])
    }
}
