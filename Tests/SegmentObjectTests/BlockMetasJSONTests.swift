import BinaryCoding
import Foundation
import Testing
@testable import SegmentObject

/// protojson as the metastore exports it: 64-bit integers as strings, lowerCamel or proto names.
@Suite struct BlockMetasJSONTests {
    @Test func acceptsStringsNumbersAndProtoNames() throws {
        let json = """
            {"blocks": [{"id": "01J2VJR31PT3X4NDJC4Q2BHWQ1", "shard": 3, "minTime": "-5", "max_time": 7,
              "compactionLevel": 1, "formatVersion": 1, "createdBy": 1, "size": "23049", "metadataOffset": "22613",
              "datasets": [{"tenant": 1, "tableOfContents": ["0", 4549], "labels": [1, 1, 0], "format": 1, "size": "9"}],
              "stringTable": ["", "x"]}]}
            """
        let metas = try BlockMetasJSON.parse(Data(json.utf8))
        let m = try #require(metas.first)
        #expect(m.id == "01J2VJR31PT3X4NDJC4Q2BHWQ1" && m.shard == 3 && m.compactionLevel == 1)
        #expect(m.minTimeMs == -5 && m.maxTimeMs == 7 && m.size == 23049 && m.metadataOffset == 22613)
        #expect(m.datasets[0].tableOfContents == [0, 4549] && m.datasets[0].labels == [1, 1, 0] && m.datasets[0].format == 1)
        #expect(m.stringTable == ["", "x"])
    }

    @Test func rejectsWhatIsNotBlockMetadata() {
        for json in ["", "[]", "{\"blocks\": 1}", "{\"blocks\": [{\"shard\": \"x\"}]}", "{\"blocks\": [{\"shard\": -1}]}",
                     "{\"blocks\": [{\"datasets\": [{\"tableOfContents\": [\"1.5\"]}]}]}", "{\"blocks\": [{\"stringTable\": [1]}]}"] {
            #expect(throws: DecodeError.self, "\(json)") { try BlockMetasJSON.parse(Data(json.utf8)) }
        }
    }
}
