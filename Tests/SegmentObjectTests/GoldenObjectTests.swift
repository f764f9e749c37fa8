import BinaryCoding
import Foundation
import Testing
@testable import SegmentObject
import TestSupport

/// The 10 golden segments (era A, metadata only in `block-metas.json`); checks #3 and #4.
/// Check #2 (re-encoding `compacted.golden`) is not a test: that file is not in our test data.
@Suite struct GoldenObjectTests {
    @Test func allGoldenSegmentsOpenWithExternalMetadata() throws {
        let objects = try GoldenObject.all()
        #expect(objects.count == 10)
        for g in objects {
            let layout = try openObject(g.bytes, meta: g.meta)
            #expect(layout.trailer == nil)
            #expect(layout.dataEnd == g.bytes.count)
            var next = 0
            for ds in layout.datasets {
                #expect(ds.format == .services)
                #expect(ds.range.lowerBound == next)
                next = ds.range.upperBound
                let p = try #require(ds.section(.profiles)).range
                let t = try #require(ds.section(.index)).range
                let s = try #require(ds.section(.symbols)).range
                #expect(Array(g.bytes[p.lowerBound ..< p.lowerBound + 4]) == Array("PAR1".utf8))
                #expect(Array(g.bytes[p.upperBound - 4 ..< p.upperBound]) == Array("PAR1".utf8))
                #expect(Array(g.bytes[t.lowerBound ..< t.lowerBound + 5]) == [0xBA, 0xAA, 0xD7, 0x00, 0x02])
                #expect(Array(g.bytes[s.upperBound - 24 ..< s.upperBound - 20]) == Array("sym1".utf8))
                #expect(p.upperBound == t.lowerBound && t.upperBound == s.lowerBound && s.upperBound == ds.range.upperBound)
            }
            #expect(next == g.bytes.count, "\(g.id): last dataset ends at EOF")
        }
    }

    /// Our JSON parser and the layout agree field by field with an independent reading of
    /// `block-metas.json` (TestSupport's, and the raw JSON values).
    @Test func reportedMetadataEqualsBlockMetasJSON() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: TestData.blockMetasJSON)) as! [String: Any]
        let blocks = json["blocks"] as! [[String: Any]]
        let golden = try GoldenSections.all()
        for g in try GoldenObject.all() {
            let raw = try #require(blocks.first { $0["id"] as? String == g.id })
            let layout = try openObject(g.bytes, meta: g.meta)
            let m = layout.meta
            #expect(m.id.description == g.id)
            #expect(m.shard == UInt32(raw["shard"] as! Int))
            #expect(m.minTimeMs == Int64(raw["minTime"] as! String))
            #expect(m.maxTimeMs == Int64(raw["maxTime"] as! String))
            #expect(m.stringTable.map(\.description) == raw["stringTable"] as! [String])
            #expect(m.formatVersion == 0 && m.createdBy == 0 && m.metadataOffset == 0 && m.size == 0)
            let expected = golden.filter { $0.segmentID == g.id }
            #expect(layout.datasets.count == expected.count)
            for (ds, e) in zip(layout.datasets, expected) {
                #expect(ds.tenant.description == e.tenant && ds.name.description == e.service)
                #expect(ds.minTimeMs == e.minTimeMs && ds.maxTimeMs == e.maxTimeMs)
                #expect(m.datasets[ds.position].tableOfContents == e.tableOfContents.map(UInt64.init))
                #expect(ds.range.count == e.size)
                #expect(ds.labelSets.isEmpty, "era A metadata has no labels")
                #expect(Array(g.bytes[ds.section(.index)!.range]) == e.tsdb)
            }
        }
    }

    @Test func secondDatasetOfTheTwoDatasetSegmentStartsAt27397() throws {
        let g = try GoldenObject.named("01J2VJR0R3NQS23SDADNA6XHCM")
        let layout = try openObject(g.bytes, meta: g.meta)
        #expect(layout.datasets.map(\.range.lowerBound) == [0, 27397])
        #expect(layout.datasets.map(\.name) == ["pyroscope-test/alloy", "pyroscope-test/ingester"])
    }

    @Test func readingGoldenSegmentsByTrailerFailsWithCRCError() throws {
        for g in try GoldenObject.all() {
            let e = #expect(throws: DecodeError.self) { try openObject(g.bytes) }
            #expect(e?.kind == .checksum, "\(g.id): \(String(describing: e))")
        }
        // §9.1: N = 0 and the CRC of four zero bytes is 0x48674bc7, not the stored 0xb27acfed.
        let g = try GoldenObject.named("01J2VJR31PT3X4NDJC4Q2BHWQ1")
        #expect(Array(g.bytes.suffix(8)) == hexBytes("00 00 00 00 b2 7a cf ed"))
        #expect(CRC32C.checksum([0, 0, 0, 0]) == 0x4867_4BC7)
    }
}
