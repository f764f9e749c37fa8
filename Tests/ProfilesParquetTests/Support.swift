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

func readTable(_ bytes: [UInt8]) throws -> ProfilesTable {
    try bytes.withUnsafeBytes { try ProfilesParquetReader.read($0) }
}

func writeSection(_ columns: ProfileColumns) -> [UInt8] {
    var w = ByteWriter()
    ProfilesParquetWriter.write(columns, into: &w)
    return w.bytes
}

/// Hand-built tables that exercise every column and null convention of §4.
enum SampleTables {
    /// Three rows: spans (one of them 0), trace IDs (one zero), comments, frames, period,
    /// annotations (one longer than 16 bytes), and a row without samples.
    static func synthetic() -> ProfileColumns {
        var c = ProfileColumns()
        func row(id: UInt128, series: UInt32, time: Int64, samples: [(UInt64, Int64, UInt64, UInt128)], spans: Bool,
                 drop: Int64 = 0, keep: Int64 = 0, duration: Int64 = 0, period: Int64 = 0, defaultType: Int64 = 0,
                 comments: [Int64] = [], annotations: [(ByteString, ByteString)] = []) {
            c.ids.append(id); c.seriesIndex.append(series); c.stacktracePartition.append(0)
            c.totalValue.append(samples.reduce(0) { $0 &+ $1.1 })
            for s in samples {
                c.sampleStacktraceIDs.append(s.0); c.sampleValues.append(s.1)
                c.sampleSpanIDs.append(spans ? s.2 : 0); c.sampleTraceIDs.append(s.3)
            }
            c.sampleOffsets.append(c.sampleStacktraceIDs.count)
            c.rowHasSpanIDs.append(spans)
            c.dropFrames.append(drop); c.keepFrames.append(keep); c.timeNanos.append(time)
            c.durationNanos.append(duration); c.period.append(period); c.defaultSampleType.append(defaultType)
            c.comments += comments; c.commentOffsets.append(c.comments.count)
            for a in annotations { c.annotationKeys.append(a.0); c.annotationValues.append(a.1) }
            c.annotationOffsets.append(c.annotationKeys.count)
        }
        let trace: UInt128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210
        row(id: 0x522e_922a_89e3_45bc_82b8_39b4_c272_da2a, series: 0, time: 1_721_060_033_248_914_182,
            samples: [(1, 10, 0, trace), (1, 5, 0xdead_beef, 0), (7, 3, 0xdead_beef, trace)],
            spans: true, drop: 4, keep: 5, duration: 15_001_112_528, period: 10_000_000, defaultType: 1,
            comments: [7, 8], annotations: [("throttled", "pyroscope.ingestion.throttled"), ("k", "")])
        row(id: 0x522e_922a_89e3_45bc_82b8_39b4_c272_da2a, series: 1, time: 1_721_060_033_248_914_182,
            samples: [(2, 1), (3, -1), (9, Int64.max)].map { ($0.0, $0.1, 0, 0) }, spans: false,
            annotations: [("throttled", "pyroscope.ingestion.throttled")])
        row(id: UInt128.max, series: 1, time: 1_721_060_033_248_914_183, samples: [], spans: false, duration: -1)
        return c
    }

    /// `rows` rows of `samplesPerRow` samples each: enough to cut sample columns into several pages.
    static func large(rows: Int, samplesPerRow: Int) -> ProfileColumns {
        var c = ProfileColumns()
        c.reserve(rows: rows, samples: rows * samplesPerRow)
        for r in 0 ..< rows {
            c.ids.append(UInt128(r / 4)); c.seriesIndex.append(UInt32(r / 10)); c.stacktracePartition.append(0)
            var total: Int64 = 0
            for s in 0 ..< samplesPerRow {
                c.sampleStacktraceIDs.append(UInt64(s * 3 + r % 3))
                let v = Int64((r * 31 + s * 7) % 97 + 1)
                c.sampleValues.append(v); total += v
                c.sampleSpanIDs.append(r % 2 == 0 ? UInt64(s % 5) : 0)
                c.sampleTraceIDs.append(s % 11 == 0 ? UInt128(s) << 64 | UInt128(r) : 0)
            }
            c.totalValue.append(total)
            c.sampleOffsets.append(c.sampleStacktraceIDs.count)
            c.rowHasSpanIDs.append(r % 2 == 0)
            c.dropFrames.append(0); c.keepFrames.append(0)
            c.timeNanos.append(1_700_000_000_000_000_000 + Int64(r % 10) * 1_000_000)
            c.durationNanos.append(10_000_000_000); c.period.append(0); c.defaultSampleType.append(0)
            c.commentOffsets.append(0)
            if r % 3 == 0 { c.annotationKeys.append(ByteString("a\(r)")); c.annotationValues.append(ByteString("value \(r)")) }
            c.annotationOffsets.append(c.annotationKeys.count)
        }
        return c
    }
}
