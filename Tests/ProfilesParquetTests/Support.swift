import BinaryCoding
@testable import ProfilesParquet
import TestSupport

/// A data or dictionary page of a file: header fields and body bytes.
struct PageBytes: Equatable {
    var type: Int32
    var crc: Int32?
    var body: [UInt8]
}

/// Test helpers over a whole Parquet file held in an array.
struct ParsedFile {
    let bytes: [UInt8]
    let metadata: FileMetadata
    let leaves: [SchemaLeaf]
    let footerStart: Int

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        let file = try bytes.withUnsafeBytes { try ParquetFile($0) }
        metadata = file.metadata
        leaves = file.leaves
        footerStart = file.footerStart
    }

    func chunk(_ path: [String]) -> FileMetadata.ColumnChunk? {
        metadata.rowGroups.first?.columns.first { $0.path == path }
    }

    func pages(_ path: [String]) throws -> [PageLocation] {
        guard let c = chunk(path) else { return [] }
        return try bytes.withUnsafeBytes { try ColumnChunkDecoder.pages($0, c, dataEnd: footerStart) }
    }

    func pageBytes(_ path: [String]) throws -> [PageBytes] {
        try pages(path).map { PageBytes(type: $0.header.type, crc: $0.header.crc, body: Array(bytes[$0.bodyStart ..< $0.bodyEnd])) }
    }

    func column(_ column: ProfileColumn) throws -> ColumnData? {
        try bytes.withUnsafeBytes { raw in
            let file = try ParquetFile(raw)
            return try file.column(column, in: file.metadata.rowGroups[0])
        }
    }
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
}

func readTable(_ bytes: [UInt8]) throws -> ProfilesTable {
    try bytes.withUnsafeBytes { try ProfilesParquetReader.read($0) }
}

func writeSection(_ columns: ProfileColumns) -> [UInt8] {
    var w = ByteWriter()
    ProfilesParquetWriter.write(columns, into: &w)
    return w.bytes
}
