import BinaryCoding
import Foundation
import Testing
@testable import SegmentObject
import TestSupport

/// A golden segment with its metadata from `block-metas.json` (era A: no trailer).
struct GoldenObject {
    var id: String
    var bytes: [UInt8]
    var meta: BlockMeta

    static func all() throws -> [GoldenObject] {
        let metas = try BlockMetasJSON.parse(Data(contentsOf: TestData.blockMetasJSON))
        return try TestData.goldenSegments().map { id, url in
            let meta = try #require(metas.first { $0.id == ByteString(id) })
            return GoldenObject(id: id, bytes: try TestData.bytes(url), meta: meta)
        }
    }

    static func named(_ id: String) throws -> GoldenObject {
        try #require(try all().first { $0.id == id })
    }
}

// Array.withUnsafeBytes is not typed-throws, so these throw `any Error` (always a DecodeError).
func openObject(_ bytes: [UInt8], meta: BlockMeta? = nil) throws -> SegmentObjectLayout {
    try bytes.withUnsafeBytes { try SegmentObjectReader.open($0, meta: meta) }
}

func readTrailer(_ bytes: [UInt8]) throws -> BlockMeta {
    try bytes.withUnsafeBytes { try MetadataTrailer.read($0) }
}

func decodeMeta(_ bytes: [UInt8]) throws -> BlockMeta {
    try bytes.withUnsafeBytes { try BlockMeta(decoding: $0) }
}

/// Smallest sections that pass the framing checks, for container-level tests.
enum MiniSections {
    static var profiles: [UInt8] { Array("PAR1".utf8) + [0, 0, 0, 0] + Array("PAR1".utf8) }

    static var tsdb: [UInt8] {
        var w = ByteWriter()
        w.append(contentsOf: [0xBA, 0xAA, 0xD7, 0x00, 0x02])
        let toc = w.count
        w.appendZeros(72)
        w.appendBE32(w.crc32c(toc ..< w.count))
        return w.bytes
    }

    static var symbols: [UInt8] {
        var w = ByteWriter()
        w.append(contentsOf: Array("sym1".utf8))
        w.appendBE32(3)
        w.appendBE64(0)
        w.appendZeros(4)
        w.appendBE32(w.crc32c(0 ..< 20))
        return w.bytes
    }

    /// One tenant "t" with service "s" (Format0) and its tenant index (Format1), with trailer.
    static func object(edit: (inout BlockMeta) -> Void = { _ in }) -> [UInt8] {
        var w = ByteWriter()
        var strings = StringTable()
        var meta = BlockMeta()
        meta.formatVersion = 1
        meta.id = "01J2VJR31PT3X4NDJC4Q2BHWQ1"
        meta.shard = 1
        meta.createdBy = strings.put("host")
        var ds = DatasetMeta()
        ds.tenant = strings.put("t")
        ds.name = strings.put("s")
        ds.minTimeMs = 5
        ds.maxTimeMs = 7
        ds.tableOfContents = [0]
        w.append(contentsOf: profiles)
        ds.tableOfContents.append(UInt64(w.count))
        w.append(contentsOf: tsdb)
        ds.tableOfContents.append(UInt64(w.count))
        w.append(contentsOf: symbols)
        ds.size = UInt64(w.count)
        ds.labels = DatasetLabels.encode(DatasetLabels.serviceSets(service: "s", profileTypes: ["cpu"], unsymbolized: false), into: &strings)
        var ix = DatasetMeta()
        ix.format = 1
        ix.tableOfContents = [UInt64(w.count)]
        w.append(contentsOf: tsdb)
        ix.size = UInt64(tsdb.count)
        ix.labels = DatasetLabels.encode(DatasetLabels.tenantIndexSets, into: &strings)
        ix.tenant = strings.put("t")
        ix.minTimeMs = 5
        ix.maxTimeMs = 7
        meta.minTimeMs = 5
        meta.maxTimeMs = 7
        meta.datasets = [ds, ix]
        meta.stringTable = strings.strings
        meta.metadataOffset = UInt64(w.count)
        edit(&meta)
        // Encode the edited metadata as the trailer, keeping an edited metadata_offset.
        let start = w.count
        meta.encode(into: &w)
        w.appendBE32(UInt32(w.count - start))
        w.appendBE32(w.crc32c(start ..< w.count))
        return w.bytes
    }
}

