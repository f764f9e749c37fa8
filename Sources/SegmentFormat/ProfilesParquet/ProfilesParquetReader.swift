import BinaryCoding

/// Reads a `profiles.parquet` section (profiles-parquet.md §3–§5) in any of the schema forms
/// Pyroscope has written: columns are resolved by path, missing newer columns read as null/empty.
public enum ProfilesParquetReader {
    /// Level entries a column may hold per byte of the file: far above what any real encoding
    /// reaches (an all-equal DELTA block of 128 values costs ≥ 5 bytes), and a bound on the memory
    /// a forged count can claim.
    static let maxEntriesPerByte = 64

    /// Decodes the section, checking `PAR1` framing, the footer and every page CRC.
    public static func read(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> ProfilesTable {
        try read(bytes, verifyingChecksums: true)
    }

    /// Tests turn CRC checks off to drive mutated page bodies into the decoders.
    static func read(_ bytes: UnsafeRawBufferPointer, verifyingChecksums: Bool) throws(DecodeError) -> ProfilesTable {
        do throws(DecodeError) {
            let file = try ParquetFile(bytes, verifyingChecksums: verifyingChecksums)
            var columns = ProfileColumns()
            for group in file.metadata.rowGroups {
                try RowAssembler.append(group, of: file, to: &columns)
            }
            guard Int64(columns.rowCount) == file.metadata.numRows else {
                throw DecodeError(.malformed, at: file.footerStart, "row groups hold \(columns.rowCount) rows, footer says \(file.metadata.numRows)")
            }
            return ProfilesTable(columns: columns, schemaColumnCount: file.leaves.count, rowCount: columns.rowCount)
        } catch {
            throw error.inRegion("profiles.parquet")
        }
    }
}

/// A Parquet file's framing and decoded footer.
struct ParquetFile {
    let bytes: UnsafeRawBufferPointer
    let metadata: FileMetadata
    let leaves: [SchemaLeaf]
    /// Offset of the Thrift `FileMetaData`; column data lies in `4 ..< footerStart`.
    let footerStart: Int
    let verifyingChecksums: Bool

    init(_ bytes: UnsafeRawBufferPointer, verifyingChecksums: Bool = true) throws(DecodeError) {
        self.bytes = bytes
        self.verifyingChecksums = verifyingChecksums
        var r = ByteReader(bytes)
        guard bytes.count >= 12 else { throw DecodeError(.truncated, at: 0, "\(bytes.count) bytes is too short for Parquet") }
        guard try r.readLE32() == Self.magic else { throw DecodeError(.malformed, at: 0, "missing leading PAR1") }
        try r.seek(to: bytes.count - 8)
        let footerLength = Int(try r.readLE32())
        guard try r.readLE32() == Self.magic else { throw DecodeError(.malformed, at: bytes.count - 4, "missing trailing PAR1") }
        guard footerLength <= bytes.count - 12 else {
            throw DecodeError(.malformed, at: bytes.count - 8, "footer length \(footerLength) exceeds the file")
        }
        footerStart = bytes.count - 8 - footerLength
        do throws(DecodeError) {
            metadata = try FileMetadata.decode(UnsafeRawBufferPointer(rebasing: bytes[footerStart ..< bytes.count - 8]))
        } catch {
            throw error.inRegion("footer", base: footerStart)
        }
        leaves = try SchemaLeaf.leaves(of: metadata.schema)
        for group in metadata.rowGroups where group.columns.count != leaves.count {
            throw DecodeError(.malformed, at: footerStart, "row group has \(group.columns.count) chunks for \(leaves.count) leaves")
        }
    }

    static let magic: UInt32 = 0x3152_4150 // "PAR1" little-endian

    /// The decoded chunk of `column` in `group`, or nil when the file's schema lacks that column.
    func column(_ column: ProfileColumn, in group: FileMetadata.RowGroup) throws(DecodeError) -> ColumnData? {
        guard let index = leaves.firstIndex(where: { $0.path == column.path }) else { return nil }
        let leaf = leaves[index]
        guard leaf.physicalType == column.physicalType.rawValue,
              leaf.maxDefinitionLevel == column.maxDefinitionLevel,
              leaf.maxRepetitionLevel == column.maxRepetitionLevel,
              column.physicalType != .fixedLenByteArray || leaf.typeLength == 16 else {
            throw DecodeError(.malformed, at: footerStart, "column \(column.path.joined(separator: ".")) has an unexpected type or nesting")
        }
        let chunk = group.columns[index]
        let maxEntries = ProfilesParquetReader.maxEntriesPerByte * bytes.count + 4096
        do throws(DecodeError) {
            return try ColumnChunkDecoder.decode(bytes, chunk, leaf: leaf, dataEnd: footerStart, maxEntries: maxEntries,
                                                verifyingChecksums: verifyingChecksums)
        } catch {
            throw error.inRegion(column.path.joined(separator: "."))
        }
    }
}
