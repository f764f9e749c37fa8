import BinaryCoding

/// Column indexes, offset indexes and `FileMetaData` as parquet-go v0.30.1 writes them (§5, §5.1).
enum FooterWriter {
    struct IndexLocation { var offset: Int; var length: Int }

    static func writeColumnIndex(_ s: ChunkSummary, into w: inout ByteWriter) {
        let column = s.column
        var t = ThriftWriter()
        // null_pages: compact-protocol bool list elements are one byte, 1 or 0 (as in the goldens).
        t.listHeader(1, .boolFalse, count: s.pages.count, &w)
        for p in s.pages { w.append(p.min == nil ? 1 : 0) }
        // §5.1: null pages get zero-width-filled numeric bounds or an empty string; TraceID null
        // pages get no entry at all (parquet-go quirk).
        var mins: [[UInt8]] = [], maxs: [[UInt8]] = []
        for p in s.pages {
            if let lo = p.min, let hi = p.max {
                mins.append(column.physicalType == .byteArray ? Statistics.truncatedMin(lo) : lo)
                maxs.append(column.physicalType == .byteArray ? Statistics.truncatedMax(hi) : hi)
            } else if column.physicalType == .byteArray {
                mins.append([]); maxs.append([])
            } else if column.physicalType != .fixedLenByteArray {
                let zero = [UInt8](repeating: 0, count: column.fixedWidth)
                mins.append(zero); maxs.append(zero)
            }
        }
        for (id, list) in [(Int16(2), mins), (3, maxs)] {
            t.listHeader(id, .binary, count: list.count, &w)
            for v in list { w.appendUvarint(UInt64(v.count)); w.append(contentsOf: v) }
        }
        t.i32(4, boundaryOrder(mins: mins, maxs: maxs, s.column), &w)
        t.listHeader(5, .i64, count: s.pages.count, &w)
        for p in s.pages { w.appendVarint(Int64(p.nullCount)) }
        if column.maxRepetitionLevel > 0 {
            t.listHeader(6, .i64, count: s.pages.count * (Int(column.maxRepetitionLevel) + 1), &w)
            for p in s.pages { for n in p.repetitionHistogram { w.appendVarint(n) } }
        }
        if column.maxDefinitionLevel > 0 {
            t.listHeader(7, .i64, count: s.pages.count * (Int(column.maxDefinitionLevel) + 1), &w)
            for p in s.pages { for n in p.definitionHistogram { w.appendVarint(n) } }
        }
        w.append(0)
    }

    /// parquet-go's `boundaryOrderOf`: ASCENDING (1) when the min and the max bounds, as the
    /// index lists them (null pages' zero values included, TraceID's left out, byte arrays
    /// truncated), are both in ascending order, DESCENDING (2) when both descend, else 0.
    private static func boundaryOrder(mins: [[UInt8]], maxs: [[UInt8]], _ column: ProfileColumn) -> Int32 {
        let orders = (order(of: mins, column), order(of: maxs, column))
        if orders == (1, 1) { return 1 }
        if orders == (-1, -1) { return 2 }
        return 0
    }

    /// parquet-go's `orderOf…`: 0 under two values; +1 when no value is below the one before
    /// (all equal counts as ascending); −1 when none is above it; else 0.
    private static func order(of values: [[UInt8]], _ column: ProfileColumn) -> Int {
        guard values.count >= 2 else { return 0 }
        let pairs = zip(values, values.dropFirst())
        if pairs.allSatisfy({ !Statistics.less(column, $1, $0) }) { return 1 }
        if pairs.allSatisfy({ !Statistics.less(column, $0, $1) }) { return -1 }
        return 0
    }

    static func writeOffsetIndex(_ s: ChunkSummary, into w: inout ByteWriter) {
        var t = ThriftWriter()
        t.listHeader(1, .structure, count: s.pages.count, &w)
        for p in s.pages {
            t.beginStructElement()
            t.i64(1, Int64(p.headerOffset), &w)
            t.i32(2, Int32(p.totalSize), &w)
            t.i64(3, Int64(p.firstRow), &w)
            t.endStruct(&w)
        }
        w.append(0)
    }

    static func writeFileMetadata(_ chunks: [ChunkSummary], rows: Int, columnIndexes: [IndexLocation],
                                  offsetIndexes: [IndexLocation], createdBy: String, into w: inout ByteWriter) {
        var t = ThriftWriter()
        t.i32(1, 2, &w)
        t.listHeader(2, .structure, count: SchemaNode.currentSchema.count, &w)
        for node in SchemaNode.currentSchema { writeSchemaElement(node, &t, &w) }
        t.i64(3, Int64(rows), &w)
        t.listHeader(4, .structure, count: 1, &w)
        t.beginStructElement()
        t.listHeader(1, .structure, count: chunks.count, &w)
        for (i, chunk) in chunks.enumerated() {
            writeColumnChunk(chunk, columnIndex: columnIndexes[i], offsetIndex: offsetIndexes[i], &t, &w)
        }
        let total = Int64(chunks.reduce(0) { $0 + $1.totalSize })
        t.i64(2, total, &w)
        t.i64(3, Int64(rows), &w)
        t.listHeader(4, .structure, count: 0, &w)
        t.i64(5, 4, &w)
        t.i64(6, total, &w)
        t.fieldHeader(7, .i16, &w)
        w.appendVarint(0)
        t.endStruct(&w)
        t.listHeader(5, .structure, count: 0, &w)
        t.binary(6, Array(createdBy.utf8), &w)
        t.listHeader(7, .structure, count: chunks.count, &w)
        for _ in chunks {
            // ColumnOrder union { 1: TypeDefinedOrder {} }.
            t.beginStructElement()
            t.beginStruct(1, &w)
            t.endStruct(&w)
            t.endStruct(&w)
        }
        w.append(0)
    }

    private static func writeSchemaElement(_ n: SchemaNode, _ t: inout ThriftWriter, _ w: inout ByteWriter) {
        t.beginStructElement()
        if let type = n.physicalType { t.i32(1, type.rawValue, &w) }
        if let length = n.typeLength { t.i32(2, length, &w) }
        if let repetition = n.repetition { t.i32(3, repetition.rawValue, &w) }
        t.binary(4, Array(n.name.utf8), &w)
        if n.physicalType == nil { t.i32(5, Int32(n.children), &w) }
        if let converted = n.convertedType { t.i32(6, converted, &w) }
        switch n.logical {
        case .none: break
        case .string: logicalMember(1, &t, &w)
        case .list: logicalMember(3, &t, &w)
        case .uuid: logicalMember(14, &t, &w)
        case .timestampNanos:
            t.beginStruct(10, &w)
            t.beginStruct(8, &w)
            t.bool(1, true, &w)
            t.beginStruct(2, &w)
            emptyMember(3, &t, &w)
            t.endStruct(&w)
            t.endStruct(&w)
            t.endStruct(&w)
        case .integer(let bits, let signed):
            t.beginStruct(10, &w)
            t.beginStruct(10, &w)
            t.fieldHeader(1, .byte, &w)
            w.append(UInt8(bitPattern: bits))
            t.bool(2, signed, &w)
            t.endStruct(&w)
            t.endStruct(&w)
        }
        t.endStruct(&w)
    }

    /// A union member that is an empty struct (StringType, ListType, UUIDType, TimeUnit NANOS).
    private static func emptyMember(_ id: Int16, _ t: inout ThriftWriter, _ w: inout ByteWriter) {
        t.beginStruct(id, &w)
        t.endStruct(&w)
    }

    /// SchemaElement field 10 holding a LogicalType whose member `id` is an empty struct.
    private static func logicalMember(_ id: Int16, _ t: inout ThriftWriter, _ w: inout ByteWriter) {
        t.beginStruct(10, &w)
        emptyMember(id, &t, &w)
        t.endStruct(&w)
    }

    private static func writeColumnChunk(_ s: ChunkSummary, columnIndex: IndexLocation, offsetIndex: IndexLocation,
                                         _ t: inout ThriftWriter, _ w: inout ByteWriter) {
        let column = s.column
        t.beginStructElement()
        t.i64(2, 0, &w) // §5.1: file_offset is 0 (parquet-go quirk).
        t.beginStruct(3, &w)
        t.i32(1, column.physicalType.rawValue, &w)
        var encodings: [Int32] = [column.dataEncoding.rawValue]
        if column.maxDefinitionLevel > 0 { encodings.append(Encoding.rle.rawValue) }
        if s.dictionaryPageOffset != nil { encodings.append(Encoding.plain.rawValue) }
        encodings = Array(Set(encodings)).sorted()
        t.listHeader(2, .i32, count: encodings.count, &w)
        for e in encodings { w.appendVarint(Int64(e)) }
        t.listHeader(3, .binary, count: column.path.count, &w)
        for name in column.path { w.appendUvarint(UInt64(name.utf8.count)); w.append(contentsOf: name.utf8) }
        t.i32(4, 0, &w)
        t.i64(5, Int64(s.numValues), &w)
        t.i64(6, Int64(s.totalSize), &w)
        t.i64(7, Int64(s.totalSize), &w)
        t.i64(9, Int64(s.dataPageOffset), &w)
        if let dictionary = s.dictionaryPageOffset { t.i64(11, Int64(dictionary), &w) }
        t.beginStruct(12, &w)
        t.i64(3, Int64(s.nullCount), &w)
        if let lo = s.min, let hi = s.max {
            t.binary(5, hi, &w)
            t.binary(6, lo, &w)
        }
        t.endStruct(&w)
        let dataPages = s.pages.count
        t.listHeader(13, .structure, count: s.dictionaryPageOffset == nil ? 1 : 2, &w)
        if s.dictionaryPageOffset != nil { encodingStats(.dictionaryPage, .plain, 1, &t, &w) }
        encodingStats(.dataPageV2, column.dataEncoding, dataPages, &t, &w)
        if column.maxRepetitionLevel > 0 || column.maxDefinitionLevel > 0 || s.unencodedByteArrayBytes > 0 {
            t.beginStruct(16, &w)
            if s.unencodedByteArrayBytes > 0 { t.i64(1, s.unencodedByteArrayBytes, &w) }
            if column.maxRepetitionLevel > 0 {
                t.listHeader(2, .i64, count: s.repetitionHistogram.count, &w)
                for n in s.repetitionHistogram { w.appendVarint(n) }
            }
            if column.maxDefinitionLevel > 0 {
                t.listHeader(3, .i64, count: s.definitionHistogram.count, &w)
                for n in s.definitionHistogram { w.appendVarint(n) }
            }
            t.endStruct(&w)
        }
        t.endStruct(&w)
        t.i64(4, Int64(offsetIndex.offset), &w)
        t.i32(5, Int32(offsetIndex.length), &w)
        t.i64(6, Int64(columnIndex.offset), &w)
        t.i32(7, Int32(columnIndex.length), &w)
        t.endStruct(&w)
    }

    private static func encodingStats(_ page: PageType, _ encoding: Encoding, _ count: Int,
                                      _ t: inout ThriftWriter, _ w: inout ByteWriter) {
        t.beginStructElement()
        t.i32(1, page.rawValue, &w)
        t.i32(2, encoding.rawValue, &w)
        t.i32(3, Int32(count), &w)
        t.endStruct(&w)
    }
}
