import BinaryCoding
import Testing
@testable import SegmentObject

/// segment-object.md §2, §8; checks #13, #14, #16 (path shape).
@Suite struct ULIDAndPathTests {
    @Test func goldenIDsParseAndReencode() throws {
        for g in try GoldenObject.all() {
            let id = try ULID(parsing: g.id)
            #expect(id.description == g.id)
        }
        // Upstream test vector: ULID time of the golden file is 10 ms–14 s after its data.
        let id = try ULID(parsing: "01J2VJR31PT3X4NDJC4Q2BHWQ1")
        #expect(id.timeMs > 1_721_060_035_611 && id.timeMs < 1_721_060_035_611 + 14_000)
    }

    @Test func generatedIDEncodesTimeAndEntropy() throws {
        let entropy: [UInt8] = [0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66]
        let id = ULID(timeMs: 1_469_918_176_385, entropy: entropy)
        let text = id.description
        #expect(text.count == 26)
        #expect(text.hasPrefix("01ARYZ6S41"))  // oklog/ulid README: time 1469918176385
        #expect(text.first! <= "7")
        #expect(text.allSatisfy { "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains($0) })
        let parsed = try ULID(parsing: text)
        #expect(parsed == id && parsed.timeMs == 1_469_918_176_385)
        let zero = ULID(timeMs: 0, entropy: [UInt8](repeating: 0, count: 10))
        #expect(zero.description == String(repeating: "0", count: 26))
        let max = ULID(timeMs: ULID.maxTimeMs, entropy: [UInt8](repeating: 0xFF, count: 10))
        #expect(max.description == "7" + String(repeating: "Z", count: 25))
    }

    @Test func invalidIDsAreRejected() {
        for text in ["", "01J2VJR31PT3X4NDJC4Q2BHWQ", "01J2VJR31PT3X4NDJC4Q2BHWQ11", "81J2VJR31PT3X4NDJC4Q2BHWQ1",
                     "01J2VJR31PT3X4NDJC4Q2BHWQU", "01J2VJR31PT3X4NDJC4Q2BHW-1"] {
            #expect(throws: DecodeError.self, "\(text)") { try ULID(parsing: text) }
        }
        #expect((try? ULID(parsing: "01j2vjr31pt3x4ndjc4q2bhwq1"))?.description == "01J2VJR31PT3X4NDJC4Q2BHWQ1")
    }

    @Test func pathsForSegmentsAndCompactedBlocks() throws {
        var m = BlockMeta()
        m.id = "01J2VJR31PT3X4NDJC4Q2BHWQ1"
        m.shard = 1
        m.tenant = 1
        m.stringTable = ["", "tenant-a"]
        #expect(ObjectPath.dataObject(m) == "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin")
        #expect(ObjectPath.metadataDLQ(m) == "dlq/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/meta.pb")
        m.compactionLevel = 2
        m.shard = 12
        #expect(ObjectPath.dataObject(m) == "blocks/12/tenant-a/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin")
        #expect(ObjectPath.metadataDLQ(m) == "dlq/12/tenant-a/01J2VJR31PT3X4NDJC4Q2BHWQ1/meta.pb")
        #expect(ObjectPath.metadataDLQ(m).split(separator: "/").count == 5)
        #expect(try ObjectPath.blockID(fromPath: ObjectPath.dataObject(m)).description == "01J2VJR31PT3X4NDJC4Q2BHWQ1")
        #expect(throws: DecodeError.self) { try ObjectPath.blockID(fromPath: "block.bin") }
    }
}
