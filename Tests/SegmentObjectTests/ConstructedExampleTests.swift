import BinaryCoding
import Testing
@testable import SegmentObject
import TestSupport
import TSDBIndex

/// A golden dataset handed to the assembler with its sections copied verbatim (§9.2).
struct VerbatimDataset: SegmentDatasetSource {
    var tenant: ByteString
    var service: ByteString
    var minTimeNanos: Int64
    var maxTimeNanos: Int64
    var profileTypes: [ByteString]
    var hasUnsymbolizedProfiles = false
    var indexSeries: [IndexSeries]
    var indexSeriesColumns: IndexSeriesColumns { IndexSeriesColumns(indexSeries) }
    var profiles: [UInt8]
    var index: [UInt8]
    var symbols: [UInt8]

    /// Labels and times as a HEAD writer derives them from the dataset's TSDB.
    init(_ golden: GoldenDataset) throws {
        let contents = try golden.tsdb.withUnsafeBytes { try TSDBIndexReader.read($0) }
        tenant = ByteString(golden.tenant)
        service = ByteString(golden.service)
        minTimeNanos = contents.from
        maxTimeNanos = contents.through
        profileTypes = Array(Set(contents.series.flatMap { $0.labels.filter { $0.name == "__profile_type__" }.map(\.value) }))
        indexSeries = contents.series
        profiles = golden.profiles
        index = golden.tsdb
        symbols = golden.symbols
    }

    func writeProfiles(into w: inout ByteWriter) { w.append(contentsOf: profiles) }
    func writeIndex(into w: inout ByteWriter) { w.append(contentsOf: index) }
    func writeSymbols(into w: inout ByteWriter) { w.append(contentsOf: symbols) }
}

/// segment-object.md §9.2: the golden `01J2VJR31PT3X4NDJC4Q2BHWQ1` laid out by the HEAD writer;
/// checks #5, #7, #8, #9, #10 (via the reader), #12, #16, #17 (tenant index size and place).
@Suite struct ConstructedExampleTests {
    static func assemble() throws -> (bytes: [UInt8], meta: BlockMeta) {
        let golden = try GoldenSections.all().filter { $0.segmentID == "01J2VJR31PT3X4NDJC4Q2BHWQ1" }
        let datasets = try golden.map(VerbatimDataset.init)
        var w = ByteWriter()
        let meta = SegmentAssembler.assemble(
            datasets, id: try ULID(parsing: "01J2VJR31PT3X4NDJC4Q2BHWQ1"), shard: 1, hostname: "segment-writer-0", into: &w)
        return (w.bytes, meta)
    }

    @Test func objectTrailerAndOffsetsMatchTheSpec() throws {
        let (bytes, meta) = try Self.assemble()
        #expect(bytes.count == 23049)
        #expect(meta.size == 23049)
        #expect(meta.metadataOffset == 22613)
        #expect(meta.datasets.map(\.tableOfContents) == [[0, 4549, 7747], [19471]])
        #expect(meta.datasets.map(\.size) == [19471, 3142])
        #expect(Array(bytes.suffix(8)) == hexBytes("00 00 01 ac 41 41 91 ca"))
        // The tail of the spec's last 64 bytes: "dataset_tsdb_index", metadata_offset, N, CRC.
        #expect(Array(bytes.suffix(32)) == hexBytes("""
            5a 12 64 61 74 61 73 65 74 5f 74 73 64 62 5f 69 6e 64 65 78 60 d5 b0 01 00 00 01 ac 41 41 91 ca
            """))
        // The tenant index section: magic, version, symbol table length 0x279.
        #expect(Array(bytes[19471 ..< 19480]) == hexBytes("ba aa d7 00 02 00 00 02 79"))
        let protobuf = Array(bytes[22613 ..< 22613 + 428])
        #expect(Array(protobuf.prefix(54)) == hexBytes("""
            08 01 12 1a 30 31 4a 32 56 4a 52 33 31 50 54 33 58 34 4e 44 4a 43 34 51 32 42 48 57 51 31
            20 01 30 9b 98 b0 b9 8b 32 38 9b 98 b0 b9 8b 32 40 01 52 33 08 02 10 03
            """))
        #expect(Array(protobuf[22714 - 22613 ..< 22714 - 22613 + 2]) == hexBytes("52 1f"))
        #expect(Array(protobuf[22747 - 22613 ..< 22747 - 22613 + 2]) == hexBytes("5a 00"))
    }

    @Test func stringTableAndLabelsFollowTheInsertionOrder() throws {
        let (_, meta) = try Self.assemble()
        let s = meta.stringTable
        #expect(s.count == 12)
        #expect(Array(s[0 ... 5]) == ["", "segment-writer-0", "anonymous", "pyroscope-test/query-frontend", "service_name", "__profile_type__"])
        #expect(Array(s[6 ... 9]) == Array(s[6 ... 9]).sorted())
        #expect(Array(s[10 ... 11]) == ["__tenant_dataset__", "dataset_tsdb_index"])
        #expect(meta.createdBy == 1 && meta.tenant == 0)
        #expect(meta.datasets[0].labels == [2, 4, 3, 5, 6, 2, 4, 3, 5, 7, 2, 4, 3, 5, 8, 2, 4, 3, 5, 9])
        #expect(meta.datasets[1].labels == [1, 10, 11])
        #expect(meta.datasets[1].format == 1 && meta.datasets[1].name == 0 && meta.datasets[1].tenant == 2)
        #expect(meta.datasets[1].minTimeMs == 1_721_060_035_611 && meta.datasets[1].maxTimeMs == 1_721_060_035_611)
        #expect(meta.minTimeMs == 1_721_060_035_611 && meta.maxTimeMs == 1_721_060_035_611)
    }

    @Test func dlqAndAddBlockBodies() throws {
        let (bytes, meta) = try Self.assemble()
        let trailer = Array(bytes[22613 ..< 22613 + 428])
        let dlq = meta.dlqObject()
        #expect(dlq.count == 432)
        // The trailer protobuf with `48 89 b4 01` (size 23049) inserted after `40 01`.
        #expect(dlq == Array(trailer[0 ..< 48]) + hexBytes("48 89 b4 01") + Array(trailer[48...]))
        #expect(meta.addBlockRequest() == hexBytes("0a b0 03") + dlq)
    }

    @Test func assembledObjectReopensByTrailer() throws {
        let (bytes, meta) = try Self.assemble()
        let layout = try openObject(bytes)
        #expect(layout.meta == meta)
        #expect(layout.trailer == 22613 ..< 23049)
        #expect(layout.datasets.map(\.format) == [.services, .tenantIndex])
        #expect(layout.datasets[1].labelSets == DatasetLabels.tenantIndexSets)
        #expect(layout.datasets[0].profileTypes.count == 4)
        let index = try bytes.withUnsafeBytes { try TSDBIndexReader.read(UnsafeRawBufferPointer(rebasing: $0[19471 ..< 22613])) }
        #expect(index.from == 0 && index.through == 0)
        #expect(index.series.count == 4)
        #expect(index.series.allSatisfy { $0.chunks == [ChunkMeta(minTime: 0, maxTime: 0, seriesIndex: 0)] })
    }
}
