import Foundation
import ProfilesParquet
import SegmentObject
import SegmentTools
import SymbolDB
import TSDBIndex
import Testing
import TestSupport

/// `inspect` against block-metas.json and the section readers, for every golden segment.
@Suite struct InspectTests {
    @Test func everyGoldenSummaryMatchesMetadataAndReaders() throws {
        let metas = try blockMetasByID()
        let goldens = try GoldenSections.all()
        for input in try goldenInputs() {
            let s = try ObjectSummary(input)
            let block = try #require(metas[s.id], "\(s.id) not in block-metas.json")
            #expect(s.shard == UInt32(block["shard"] as! Int))
            #expect(s.minTimeMs == Int64(block["minTime"] as! String))
            #expect(s.maxTimeMs == Int64(block["maxTime"] as! String))
            #expect(s.sizeBytes == input.bytes.count)
            #expect(s.metadataSource == "external")
            let datasets = goldens.filter { $0.segmentID == s.id }
            try #require(s.datasets.count == datasets.count)
            for (d, g) in zip(s.datasets, datasets) {
                #expect(d.errors.isEmpty, "\(g.name): \(d.errors)")
                #expect(d.position == g.datasetIndex)
                #expect(d.tenant == g.tenant)
                #expect(d.service == g.service)
                #expect(d.minTimeMs == g.minTimeMs && d.maxTimeMs == g.maxTimeMs)
                #expect(d.offset == g.tableOfContents[0] && d.sizeBytes == g.size)
                let sizes = Dictionary(uniqueKeysWithValues: d.sections.map { ($0.name, $0.sizeBytes) })
                #expect(sizes == ["profiles.parquet": g.profiles.count, "index.tsdb": g.tsdb.count, "symbols.symdb": g.symbols.count])
                #expect(d.sections.map(\.offset) == g.tableOfContents)

                let index = try g.tsdb.withUnsafeBytes { try TSDBIndexReader.read($0) }
                let table = try g.profiles.withUnsafeBytes { try ProfilesParquetReader.read($0) }
                let db = try g.symbols.withUnsafeBytes { try SymbolDBReader.read($0) }
                #expect(d.seriesCount == index.series.count)
                let types = Set(index.series.flatMap { $0.labels.filter { $0.name == "__profile_type__" }.map(\.value.description) })
                #expect(Set(d.profileTypes) == types)
                #expect(d.profileRows == table.rowCount)
                #expect(d.sampleCount == table.columns.sampleCount)
                let y = try #require(d.symbols)
                #expect(y.partitions == db.partitions.count)
                #expect(y.strings == db.partitions.map(\.strings.count).reduce(0, +))
                #expect(y.functions == db.partitions.map(\.functions.count).reduce(0, +))
                #expect(y.locations == db.partitions.map(\.locations.count).reduce(0, +))
                #expect(y.mappings == db.partitions.map(\.mappings.count).reduce(0, +))
                #expect(y.stacktraces == db.partitions.map(\.stacktraceCount).reduce(0, +))
            }
            try expectJSONCarriesTheSameNumbers(s)
            #expect(s.text().contains("object \(s.id)  shard \(s.shard)"))
        }
    }

    private func expectJSONCarriesTheSameNumbers(_ s: ObjectSummary) throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try s.json().utf8)) as? [String: Any])
        #expect(json["id"] as? String == s.id)
        #expect((json["shard"] as? NSNumber)?.uint32Value == s.shard)
        #expect((json["minTimeMs"] as? NSNumber)?.int64Value == s.minTimeMs)
        #expect((json["maxTimeMs"] as? NSNumber)?.int64Value == s.maxTimeMs)
        let datasets = try #require(json["datasets"] as? [[String: Any]])
        try #require(datasets.count == s.datasets.count)
        for (j, d) in zip(datasets, s.datasets) {
            #expect(j["tenant"] as? String == d.tenant && j["service"] as? String == d.service)
            #expect(j["seriesCount"] as? Int == d.seriesCount)
            #expect(j["profileRows"] as? Int == d.profileRows)
            #expect(j["sampleCount"] as? Int == d.sampleCount)
            #expect((j["sections"] as? [[String: Any]])?.map { $0["sizeBytes"] as? Int } == d.sections.map(\.sizeBytes))
            let symbols = j["symbols"] as? [String: Any]
            #expect(symbols?["functions"] as? Int == d.symbols?.functions)
            #expect(symbols?["stacktraces"] as? Int == d.symbols?.stacktraces)
        }
    }

    @Test func accumulatedObjectIsReadFromItsTrailer() throws {
        let bytes = try accumulatedObject(["heap", "profile_python"])
        let s = try ObjectSummary(ObjectInput(path: "accumulated", bytes: bytes))
        #expect(s.metadataSource == "trailer")
        #expect(s.datasets.allSatisfy { $0.errors.isEmpty })
        #expect(s.datasets.contains { $0.service == "api" })
    }
}
