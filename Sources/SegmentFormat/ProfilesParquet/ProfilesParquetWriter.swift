import BinaryCoding

/// Writes the current 21-column `profiles.parquet` form (profiles-parquet.md §3–§5): one row group,
/// uncompressed DATA_PAGE_V2 pages with CRCs, dictionaries for SpanID/TraceID, statistics, column
/// and offset indexes. The caller orders rows by (SeriesIndex, TimeNanos) and samples by stack ID.
public enum ProfilesParquetWriter {
    /// `created_by` (§5): readers ignore it; the form follows Pyroscope's.
    public static let createdBy = "github.com/grafana/pyroscope/ version swift-segment-writer(build unknown)"

    /// Appends the section to `w`; all offsets inside are relative to `w.count` at entry.
    public static func write(_ columns: ProfileColumns, into w: inout ByteWriter) {
        precondition(columns.isConsistent, "ProfileColumns arrays disagree in length or offsets")
        precondition(columns.rowCount > 0, "an empty head produces no profiles section (§5)")
        precondition(columns.isOrdered, "rows must be ordered by (SeriesIndex, TimeNanos), samples by stack ID")
        let base = w.count
        w.appendLE32(ParquetFile.magic)
        var scratch = WriterScratch()
        var chunks: [ChunkSummary] = []
        chunks.reserveCapacity(ProfileColumn.allCases.count)
        for column in ProfileColumn.allCases {
            chunks.append(ColumnChunkWriter.write(column, of: columns, base: base, scratch: &scratch, into: &w))
        }
        var columnIndexes: [FooterWriter.IndexLocation] = []
        for chunk in chunks {
            let start = w.count
            FooterWriter.writeColumnIndex(chunk, into: &w)
            columnIndexes.append(.init(offset: start - base, length: w.count - start))
        }
        var offsetIndexes: [FooterWriter.IndexLocation] = []
        for chunk in chunks {
            let start = w.count
            FooterWriter.writeOffsetIndex(chunk, into: &w)
            offsetIndexes.append(.init(offset: start - base, length: w.count - start))
        }
        let footerStart = w.count
        FooterWriter.writeFileMetadata(chunks, rows: columns.rowCount, columnIndexes: columnIndexes,
                                       offsetIndexes: offsetIndexes, createdBy: createdBy, into: &w)
        w.appendLE32(UInt32(w.count - footerStart))
        w.appendLE32(ParquetFile.magic)
    }
}
