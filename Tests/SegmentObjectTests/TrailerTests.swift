import BinaryCoding
import Testing
@testable import SegmentObject

/// segment-object.md §4, §10, §12; checks #1, #6, #7, #8, #16 (encoding).
@Suite struct TrailerTests {
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    static func sampleMeta() -> BlockMeta {
        var m = BlockMeta()
        m.formatVersion = 1
        m.id = "01J2VJR31PT3X4NDJC4Q2BHWQ1"
        m.shard = 3
        m.createdBy = 1
        m.stringTable = ["", "host"]
        m.minTimeMs = .max
        return m
    }

    @Test func appendThenReadRoundTripsAndSizeStaysOutOfTheTrailer() throws {
        var w = ByteWriter()
        w.append(contentsOf: [1, 2, 3])
        let registered = MetadataTrailer.append(Self.sampleMeta(), to: &w)
        #expect(registered.metadataOffset == 3)
        #expect(registered.size == UInt64(w.count))
        // The trailer protobuf has no size field: it equals the registered meta minus size.
        var inTrailer = registered
        inTrailer.size = 0
        let n = w.count - 3 - 8
        #expect(Array(w.bytes[3 ..< 3 + n]) == inTrailer.encoded())
        #expect(try decodeMeta(Array(w.bytes[3 ..< 3 + n])).size == 0)
        let read = try readTrailer(w.bytes)
        #expect(read == registered)
    }

    @Test func dlqAndAddBlockCarryTheSize() throws {
        var w = ByteWriter()
        let meta = MetadataTrailer.append(Self.sampleMeta(), to: &w)
        let dlq = meta.dlqObject()
        #expect(try decodeMeta(dlq) == meta)
        #expect(try decodeMeta(dlq).size == UInt64(w.count))
        let request = meta.addBlockRequest()
        #expect(Array(request.prefix(2)) == [0x0A, UInt8(dlq.count)])
        #expect(Array(request.dropFirst(2)) == dlq)
        #expect(try request.withUnsafeBytes { try BlockMeta(decodingAddBlockRequest: $0) } == meta)
        #expect(throws: DecodeError.self) { try [UInt8]().withUnsafeBytes { try BlockMeta(decodingAddBlockRequest: $0) } }
        // Two `block` fields merge: scalars of the second win, repeated fields append.
        var second = BlockMeta()
        second.shard = 42
        second.stringTable = ["extra"]
        var twice = ByteWriter()
        twice.append(contentsOf: request)
        twice.appendTag(1, .lengthDelimited)
        twice.appendUvarint(UInt64(second.encodedSize))
        second.encode(into: &twice)
        let merged = try twice.bytes.withUnsafeBytes { try BlockMeta(decodingAddBlockRequest: $0) }
        #expect(merged.shard == 42 && merged.id == meta.id && merged.stringTable == meta.stringTable + ["extra"])
        #expect(MetastoreMethod.addBlock == "/metastore.v1.IndexService/AddBlock")
    }

    @Test func getBlockMetadataRequestAndResponse() throws {
        // GetBlockMetadataRequest{1: BlockList{shard 2: 3, blocks 3: "A", "BC"}}: the empty
        // tenant (a segment's) and shard 0 are omitted, as proto3 does.
        #expect(BlockMetadataQuery.request(shard: 3, blocks: ["A", "BC"])
            == [0x0A, 9, 0x10, 3, 0x1A, 1, 0x41, 0x1A, 2, 0x42, 0x43])
        #expect(BlockMetadataQuery.request(tenant: "t", shard: 0, blocks: []) == [0x0A, 3, 0x0A, 1, 0x74])
        // GetBlockMetadataResponse{1: repeated BlockMeta}, an unknown field skipped.
        var first = Self.sampleMeta()
        first.size = 100
        var second = BlockMeta()
        second.id = "01KAAAAAAAAAAAAAAAAAAAAAAA"
        second.shard = 7
        var w = ByteWriter()
        w.appendBytesField(1, first.encoded())
        w.appendVarintField(2, 1)
        w.appendBytesField(1, second.encoded())
        let blocks = try w.bytes.withUnsafeBytes { try BlockMetadataQuery.blocks(inResponse: $0) }
        #expect(blocks == [first, second])
        #expect(try [UInt8]().withUnsafeBytes { try BlockMetadataQuery.blocks(inResponse: $0) }.isEmpty)
        #expect(throws: DecodeError.self) { try w.bytes.dropLast().withUnsafeBytes { try BlockMetadataQuery.blocks(inResponse: $0) } }
    }

    @Test func zeroDatasetBlockHasTrailerOnlyAndOpens() throws {
        var w = ByteWriter()
        var m = Self.sampleMeta()
        m.maxTimeMs = 0
        let meta = MetadataTrailer.append(m, to: &w)
        #expect(meta.metadataOffset == 0)
        let layout = try openObject(w.bytes)
        #expect(layout.datasets.isEmpty)
        #expect(layout.meta.minTimeMs == .max)
    }

    @Test func shortObjectsOverlongLengthAndBadCRCAreRejected() throws {
        for n in 0 ... 8 {
            let e = #expect(throws: DecodeError.self) { try readTrailer([UInt8](repeating: 0, count: n)) }
            #expect(e?.kind == .truncated)
        }
        var w = ByteWriter()
        _ = MetadataTrailer.append(Self.sampleMeta(), to: &w)
        var long = w.bytes
        long[long.count - 8] = 0x7F
        #expect(throws: DecodeError.self) { try readTrailer(long) }
        var badCRC = w.bytes
        badCRC[badCRC.count - 1] ^= 1
        let e = #expect(throws: DecodeError.self) { try readTrailer(badCRC) }
        #expect(e?.kind == .checksum)
    }
}
