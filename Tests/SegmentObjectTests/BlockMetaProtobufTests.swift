import BinaryCoding
import Testing
@testable import SegmentObject
import TestSupport

/// segment-object.md §4.3, §5; check #6.
@Suite struct BlockMetaProtobufTests {
    static let timeMs: Int64 = 1_721_060_035_611

    @Test func tenantIndexDatasetEncodesAsInTheConstructedExample() {
        var ds = DatasetMeta()
        ds.tenant = 2
        ds.minTimeMs = Self.timeMs
        ds.maxTimeMs = Self.timeMs
        ds.tableOfContents = [19471]
        ds.size = 3142
        ds.labels = [1, 10, 11]
        ds.format = 1
        var w = ByteWriter()
        ds.encode(into: &w)
        #expect(w.bytes == hexBytes("08 02 18 9b98b0b98b32 20 9b98b0b98b32 2a 03 8f9801 30 c618 42 03 010a0b 48 01"))
        #expect(w.count == 31 && ds.encodedSize == 31)
    }

    @Test func serviceDatasetEncodesAsInTheConstructedExample() {
        var ds = DatasetMeta()
        ds.tenant = 2
        ds.name = 3
        ds.minTimeMs = Self.timeMs
        ds.maxTimeMs = Self.timeMs
        ds.tableOfContents = [0, 4549, 7747]
        ds.size = 19471
        ds.labels = [2, 4, 3, 5, 6, 2, 4, 3, 5, 7, 2, 4, 3, 5, 8, 2, 4, 3, 5, 9]
        var w = ByteWriter()
        ds.encode(into: &w)
        #expect(w.bytes == hexBytes("""
            08 02 10 03 18 9b98b0b98b32 20 9b98b0b98b32 2a 05 00 c523 c33c 30 8f9801
            42 14 02 04 03 05 06 02 04 03 05 07 02 04 03 05 08 02 04 03 05 09
            """))
        #expect(w.count == 51)
    }

    @Test func zeroScalarsAreOmittedButEmptyStringsAndDatasetsAreEmitted() {
        #expect(BlockMeta().encoded().isEmpty)
        var m = BlockMeta()
        m.stringTable = ["", "a"]
        m.datasets = [DatasetMeta()]
        #expect(m.encoded() == hexBytes("52 00 5a 00 5a 01 61"))
    }

    @Test func fieldsGoOutInAscendingNumberWithMetadataOffsetLast() {
        var m = BlockMeta()
        m.metadataOffset = 22613
        m.size = 23049
        m.createdBy = 1
        m.formatVersion = 1
        #expect(m.encoded() == hexBytes("08 01 40 01 48 89b401 60 d5b001"))
    }

    @Test func negativeInt32IsTenByteTwosComplement() throws {
        var m = BlockMeta()
        m.tenant = -1
        m.datasets = [DatasetMeta()]
        m.datasets[0].labels = [-2]
        let bytes = m.encoded()
        #expect(bytes == hexBytes("18 ffffffffffffffffff01 52 0c 42 0a feffffffffffffffff01"))
        #expect(try decodeMeta(bytes) == m)
    }

    @Test func roundTripKeepsEveryFieldAndUnknownFields() throws {
        var m = BlockMeta()
        m.formatVersion = 1
        m.id = "01J2VJR31PT3X4NDJC4Q2BHWQ1"
        m.tenant = 1
        m.shard = 77
        m.compactionLevel = 2
        m.minTimeMs = -5
        m.maxTimeMs = .max
        m.createdBy = 2
        m.size = 1 << 40
        var ds = DatasetMeta()
        ds.tenant = 1
        ds.name = 2
        ds.minTimeMs = 1
        ds.maxTimeMs = 2
        ds.tableOfContents = [0, 300, 1 << 33]
        ds.size = 99
        ds.labels = [1, 1, 2]
        ds.format = 1
        ds.unknownFields = hexBytes("70 05")          // field 14, varint
        m.datasets = [ds, DatasetMeta()]
        m.stringTable = ["", "tenant", "svc"]
        m.metadataOffset = 12345
        m.unknownFields = hexBytes("a2 06 02 68 69")  // field 100, bytes "hi"
        let bytes = m.encoded()
        #expect(bytes.count == m.encodedSize)
        let decoded = try decodeMeta(bytes)
        #expect(decoded == m)
        #expect(decoded.encoded() == bytes)
    }

    @Test func unpackedRepeatedScalarsAreAccepted() throws {
        // toc [0, 4549] and labels [1, 2, 3] sent unpacked (one field per element).
        let unpacked = hexBytes("52 0b 28 00 28 c523 40 01 40 02 40 03")
        let m = try decodeMeta(unpacked)
        #expect(m.datasets[0].tableOfContents == [0, 4549])
        #expect(m.datasets[0].labels == [1, 2, 3])
        // Re-encoding packs them, as vtproto does.
        #expect(m.encoded() == hexBytes("52 0a 2a 03 00 c523 42 03 01 02 03"))
    }

    @Test func wrongWireTypeTruncationAndOverrunAreRejected() {
        let cases: [(String, [UInt8])] = [
            ("wrong wire type", hexBytes("0d 01 00 00 00")),          // format_version as fixed32
            ("truncated varint", hexBytes("20 ff")),
            ("length overrun", hexBytes("12 05 41 42")),
            ("dataset overrun", hexBytes("52 03 08 01")),
            ("packed varint truncated", hexBytes("52 03 2a 01 80")),
            ("group wire type", hexBytes("0b")),
            ("field zero", hexBytes("00 01")),
        ]
        for (name, bytes) in cases {
            #expect(throws: DecodeError.self, "\(name)") { try decodeMeta(bytes) }
        }
    }
}
