import BinaryCoding
import Testing
import TestSupport
import TSDBIndex

/// The tenant dataset index (tsdb-index.md §8, §12.6; segment-object.md §7, §9.2, §15.17).
@Suite struct DatasetIndexTests {
    static func datasetIndex(_ datasets: [(position: UInt32, series: [IndexSeries])]) -> [UInt8] {
        var w = ByteWriter()
        DatasetIndexWriter.write(datasets: datasets, into: &w)
        return w.bytes
    }

    @Test func oneGoldenDatasetNumbered0() throws {
        let series = try readIndex(golden("01J2VJQTJ3PGF7KB39ARR1BX3Y").tsdb).series
        let out = Self.datasetIndex([(0, series)])
        #expect(out.count == 3457)
        #expect(toc(out).crc == 0x1475_9e88)
        #expect(SHA256.hex(out) == "2297c3289b1404b5b7135de7853eab750d4fb01708eb63372ea4e7a37698c662")
    }

    @Test func twoGoldenDatasetsNumbered0And1AreConcatenatedNotResorted() throws {
        let first = try readIndex(golden("01J2VJR0R3NQS23SDADNA6XHCM", 0).tsdb).series
        let second = try readIndex(golden("01J2VJR0R3NQS23SDADNA6XHCM", 1).tsdb).series
        let out = Self.datasetIndex([(0, first), (1, second)])
        #expect(out.count == 4968)
        #expect(toc(out).crc == 0x201b_d312)
        #expect(SHA256.hex(out) == "92b03b414222c5ba41c72f2b0a03a1d21bd037cce688ae371d12d76eb1384532")
        let back = try readIndex(out)
        #expect(back.series.count == 7)
        #expect(back.series.map(\.labels) == (first + second).map(\.labels))
        #expect(back.series.map(\.fingerprint) == (first + second).map(\.fingerprint))
        #expect(back.series.map { $0.chunks[0].seriesIndex } == [0, 0, 1, 1, 1, 1, 1])
    }

    // segment-object.md §9.2 / §15.17
    @Test func tenantIndexOfTheSection9_2Example() throws {
        let series = try readIndex(golden("01J2VJR31PT3X4NDJC4Q2BHWQ1").tsdb).series
        var w = ByteWriter()
        w.append(contentsOf: [UInt8](repeating: 0, count: 19471))  // dataset 0 precedes it in the object
        DatasetIndexWriter.write(datasets: [(0, series)], into: &w)
        let out = Array(w.bytes[19471...])
        #expect(out.count == 3142)
        #expect(Array(out.prefix(9)) == [0xba, 0xaa, 0xd7, 0x00, 0x02, 0x00, 0x00, 0x02, 0x79])
        let back = try readIndex(out)
        #expect(back.from == 0 && back.through == 0)
        #expect(back.series.count == 4)
        #expect(back.series.allSatisfy { $0.chunks == [ChunkMeta(minTime: 0, maxTime: 0, seriesIndex: 0)] })
    }

    @Test func noSeriesWritesNothing() {
        #expect(Self.datasetIndex([]).isEmpty)
        #expect(Self.datasetIndex([(0, []), (1, [])]).isEmpty)
    }

    // §12.7 (the part this module owns): a second tenant's index names its dataset's global position.
    @Test func secondTenantIndexCarriesTheGlobalPosition() throws {
        let c = IndexSeries(labels: [label("service_name", "c")], fingerprint: SeriesFingerprint.of([label("service_name", "c")]),
                            chunks: [ChunkMeta(minTime: 5, maxTime: 9, seriesIndex: 0)])
        // t1: a = 0, b = 1, t1-index = 2; t2: c = 3, t2-index = 4.
        let back = try readIndex(Self.datasetIndex([(3, [c])]))
        #expect(back.series.map(\.chunks) == [[ChunkMeta(minTime: 0, maxTime: 0, seriesIndex: 3)]])
    }
}
