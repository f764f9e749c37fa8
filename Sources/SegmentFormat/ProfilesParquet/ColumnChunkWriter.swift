import BinaryCoding

/// What the footer, column index and offset index need to know about one written page.
struct PageSummary {
    var headerOffset: Int
    var totalSize: Int
    var firstRow: Int
    var nullCount: Int
    var valueCount: Int
    var min: [UInt8]?
    var max: [UInt8]?
    var repetitionHistogram: [Int64]
    var definitionHistogram: [Int64]
}

/// What the footer needs to know about one written column chunk.
struct ChunkSummary {
    var column: ProfileColumn
    var dictionaryPageOffset: Int?
    var dataPageOffset = 0
    var totalSize = 0
    var numValues = 0
    var nullCount = 0
    var min: [UInt8]?
    var max: [UInt8]?
    var pages: [PageSummary] = []
    var repetitionHistogram: [Int64]
    var definitionHistogram: [Int64]
    var unencodedByteArrayBytes: Int64 = 0

    init(column: ProfileColumn) {
        self.column = column
        repetitionHistogram = Array(repeating: 0, count: Int(column.maxRepetitionLevel) + 1)
        definitionHistogram = Array(repeating: 0, count: Int(column.maxDefinitionLevel) + 1)
    }
}

/// Scratch reused across pages and columns: the page buffer, the encoded body and the hybrid
/// RLE output (the delta block lives on the stack).
struct WriterScratch {
    var page = PageBuffer()
    var body = ByteWriter()
    var int64s: [Int64] = []
    var runs: [UInt8] = []
}

enum ColumnChunkWriter {
    /// Rows are fed to pages in batches of 42 and a page is cut once its buffered size reaches
    /// 0.98 × 32 KiB (§5 "Page cutting"), so pages never split a row.
    static let rowBatch = 42
    static let pageBytesThreshold = 32112

    static func write(_ column: ProfileColumn, of c: ProfileColumns, base: Int, scratch: inout WriterScratch,
                      into w: inout ByteWriter) -> ChunkSummary {
        var summary = ChunkSummary(column: column)
        let chunkStart = w.count
        var dictionary = ChunkDictionary()
        if column.dataEncoding == .rleDictionary {
            dictionary = ChunkDictionary(for: column, of: c)
            summary.dictionaryPageOffset = w.count - base
            writeDictionaryPage(dictionary, scratch: &scratch, into: &w)
        }
        summary.dataPageOffset = w.count - base
        var firstRow = 0
        var row = 0
        var pageBytes = 0
        while row < c.rowCount {
            let end = min(row + rowBatch, c.rowCount)
            pageBytes += PageSize.of(column, c, rows: row ..< end, dictionary: dictionary)
            row = end
            if pageBytes >= pageBytesThreshold || row == c.rowCount {
                scratch.page.fill(column, of: c, rows: firstRow ..< row, dictionary: &dictionary)
                let page = writeDataPage(column, of: c, firstRow: firstRow, base: base, scratch: &scratch, into: &w)
                summary.add(page)
                firstRow = row
                pageBytes = 0
            }
        }
        summary.totalSize = w.count - chunkStart
        if column.physicalType == .byteArray {
            let values = column == .annotationKey ? c.annotationKeys : c.annotationValues
            summary.unencodedByteArrayBytes = values.reduce(0) { $0 + Int64($1.count) }
        }
        return summary
    }

    private static func writeDictionaryPage(_ d: ChunkDictionary, scratch: inout WriterScratch, into w: inout ByteWriter) {
        scratch.body.bytes.removeAll(keepingCapacity: true)
        for span in d.spans { scratch.body.appendLE64(span) }
        for trace in d.traces { appendBE128(trace, &scratch.body) }
        let crc = scratch.body.bytes.withUnsafeBytes { pageCRC($0) }
        var t = ThriftWriter()
        t.i32(1, PageType.dictionaryPage.rawValue, &w)
        t.i32(2, Int32(scratch.body.count), &w)
        t.i32(3, Int32(scratch.body.count), &w)
        if crc != 0 { t.i32(4, Int32(bitPattern: crc), &w) }
        t.beginStruct(7, &w)
        t.i32(1, Int32(d.count), &w)
        t.i32(2, Encoding.plain.rawValue, &w)
        t.endStruct(&w)
        w.append(0)
        w.append(contentsOf: scratch.body.bytes)
    }

    private static func writeDataPage(_ column: ProfileColumn, of c: ProfileColumns, firstRow: Int, base: Int,
                                      scratch: inout WriterScratch, into w: inout ByteWriter) -> PageSummary {
        let page = scratch.page
        scratch.body.bytes.removeAll(keepingCapacity: true)
        // DATA_PAGE_V2 body: repetition levels ‖ definition levels (no length prefixes) ‖ values.
        if column.maxRepetitionLevel > 0 {
            page.repetitionLevels.withUnsafeBufferPointer {
                HybridRLE.encodeLevels($0, bitWidth: HybridRLE.bitLength(UInt64(column.maxRepetitionLevel)),
                                       scratch: &scratch.runs, into: &scratch.body)
            }
        }
        let repetitionLength = scratch.body.count
        if column.maxDefinitionLevel > 0 {
            page.definitionLevels.withUnsafeBufferPointer {
                HybridRLE.encodeLevels($0, bitWidth: HybridRLE.bitLength(UInt64(column.maxDefinitionLevel)),
                                       scratch: &scratch.runs, into: &scratch.body)
            }
        }
        let definitionLength = scratch.body.count - repetitionLength
        encodeValues(column, page, of: c, scratch: &scratch)

        let bounds = Statistics.pageBounds(column, page, of: c)
        let minValue = bounds?.0, maxValue = bounds?.1
        let crc = scratch.body.bytes.withUnsafeBytes { pageCRC($0) }
        let headerOffset = w.count
        var t = ThriftWriter()
        t.i32(1, PageType.dataPageV2.rawValue, &w)
        t.i32(2, Int32(scratch.body.count), &w)
        t.i32(3, Int32(scratch.body.count), &w)
        if crc != 0 { t.i32(4, Int32(bitPattern: crc), &w) }
        t.beginStruct(8, &w)
        t.i32(1, Int32(page.entries), &w)
        t.i32(2, Int32(page.nullCount), &w)
        t.i32(3, Int32(page.rows), &w)
        t.i32(4, column.dataEncoding.rawValue, &w)
        t.i32(5, Int32(definitionLength), &w)
        t.i32(6, Int32(repetitionLength), &w)
        t.bool(7, false, &w)
        t.beginStruct(8, &w)
        if let minValue, let maxValue {
            t.binary(1, maxValue, &w)
            t.binary(2, minValue, &w)
        }
        t.i64(3, Int64(page.nullCount), &w)
        if let minValue, let maxValue {
            t.binary(5, maxValue, &w)
            t.binary(6, minValue, &w)
        }
        t.endStruct(&w)
        t.endStruct(&w)
        w.append(0)
        w.append(contentsOf: scratch.body.bytes)

        return PageSummary(headerOffset: headerOffset - base, totalSize: w.count - headerOffset, firstRow: firstRow,
                           nullCount: page.nullCount, valueCount: page.valueCount, min: minValue, max: maxValue,
                           repetitionHistogram: page.repetitionHistogram(column),
                           definitionHistogram: page.definitionHistogram(column))
    }

    private static func encodeValues(_ column: ProfileColumn, _ page: PageBuffer, of c: ProfileColumns, scratch: inout WriterScratch) {
        switch column.dataEncoding {
        case .plain:
            for v in page.ints { scratch.body.appendLE64(UInt64(bitPattern: v)) }
            for v in page.fixed16 { appendBE128(v, &scratch.body) }
        case .deltaBinaryPacked:
            page.ints.withUnsafeBufferPointer {
                DeltaBinaryPacked.encode($0, bits32: column.physicalType == .int32, into: &scratch.body)
            }
        case .deltaLengthByteArray:
            let values = column == .annotationKey ? c.annotationKeys : c.annotationValues
            scratch.int64s.removeAll(keepingCapacity: true)
            for i in page.strings { scratch.int64s.append(Int64(values[i].count)) }
            scratch.int64s.withUnsafeBufferPointer {
                DeltaBinaryPacked.encode($0, bits32: true, into: &scratch.body)
            }
            for i in page.strings { scratch.body.append(values[i]) }
        case .rleDictionary:
            var widest: UInt32 = 0
            for i in page.indices { widest |= i }
            let width = HybridRLE.bitLength(UInt64(widest))
            scratch.body.append(UInt8(width))
            page.indices.withUnsafeBufferPointer {
                HybridRLE.encodeIndices($0, bitWidth: width, scratch: &scratch.runs, into: &scratch.body)
            }
        default:
            preconditionFailure("no writer for encoding \(column.dataEncoding)")
        }
    }

    static func appendBE128(_ v: UInt128, _ w: inout ByteWriter) {
        w.appendBE64(UInt64(truncatingIfNeeded: v >> 64))
        w.appendBE64(UInt64(truncatingIfNeeded: v))
    }
}

extension ChunkSummary {
    mutating func add(_ page: PageSummary) {
        pages.append(page)
        numValues += page.nullCount + page.valueCount
        nullCount += page.nullCount
        for (i, n) in page.repetitionHistogram.enumerated() { repetitionHistogram[i] += n }
        for (i, n) in page.definitionHistogram.enumerated() { definitionHistogram[i] += n }
        if let pmin = page.min, let pmax = page.max {
            if min == nil || Statistics.less(column, pmin, min!) { min = pmin }
            if max == nil || Statistics.less(column, max!, pmax) { max = pmax }
        }
    }
}
