/// Level entries and non-null values of one page of one column, filled from a whole row range at
/// once (profiles-parquet.md §4). One buffer is reused for every page of every column (cleared
/// with `keepingCapacity`): levels are written through a pointer per row, values copied as
/// slices, so filling a page allocates nothing once the buffers have grown.
struct PageBuffer {
    var repetitionLevels: [UInt8] = []
    var definitionLevels: [UInt8] = []
    /// INT32 (sign-extended) and INT64 values; for dictionary columns the SpanID values.
    var ints: [Int64] = []
    /// FIXED_LEN_BYTE_ARRAY(16) values.
    var fixed16: [UInt128] = []
    /// BYTE_ARRAY values: the page's range of the annotation arrays.
    var strings: Range<Int> = 0 ..< 0
    /// Dictionary indices of the values (SpanID, TraceID).
    var indices: [UInt32] = []
    var entries = 0
    var rows = 0
    /// Entries of list columns that stand for an empty list (definition level 0).
    var emptyLists = 0

    var valueCount: Int { ints.count + fixed16.count + strings.count }
    var nullCount: Int { entries - valueCount }

    /// Level histograms (size statistics, §5.1) follow from the counts: every row has one entry
    /// at repetition level 0; a list column's entries are empty lists (0), present values (max
    /// level) or, for the nested sample columns, elements without a value (1).
    func repetitionHistogram(_ column: ProfileColumn) -> [Int64] {
        var h = [Int64](repeating: 0, count: Int(column.maxRepetitionLevel) + 1)
        if column.maxRepetitionLevel > 0 {
            h[0] = Int64(rows)
            h[1] = Int64(entries - rows)
        }
        return h
    }

    func definitionHistogram(_ column: ProfileColumn) -> [Int64] {
        let top = Int(column.maxDefinitionLevel)
        var h = [Int64](repeating: 0, count: top + 1)
        if top == 1 {
            h[0] = Int64(nullCount)
            h[1] = Int64(valueCount)
        } else if top > 1 {
            h[0] = Int64(emptyLists)
            h[1] = Int64(entries - emptyLists - valueCount)
            h[top] += Int64(valueCount)
        }
        return h
    }

    mutating func reset() {
        repetitionLevels.removeAll(keepingCapacity: true)
        definitionLevels.removeAll(keepingCapacity: true)
        ints.removeAll(keepingCapacity: true)
        fixed16.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
        strings = 0 ..< 0
        entries = 0
        rows = 0
        emptyLists = 0
    }

    /// Fills the buffer with the level entries and values of `range` for `column`.
    /// `dictionary` hands out the indices of dictionary columns in chunk order.
    mutating func fill(_ column: ProfileColumn, of c: ProfileColumns, rows range: Range<Int>, dictionary: inout ChunkDictionary) {
        reset()
        rows = range.count
        switch column {
        case .id:
            fixed16.append(contentsOf: c.ids[range])
            entries = rows
        case .seriesIndex:
            for r in range { ints.append(Int64(Int32(bitPattern: c.seriesIndex[r]))) }
            entries = rows
        case .stacktracePartition:
            for r in range { ints.append(Int64(bitPattern: c.stacktracePartition[r])) }
            entries = rows
        case .totalValue:
            ints.append(contentsOf: c.totalValue[range])
            entries = rows
        case .timeNanos:
            ints.append(contentsOf: c.timeNanos[range])
            entries = rows
        case .dropFrames: fillOptional(c.dropFrames, range)
        case .keepFrames: fillOptional(c.keepFrames, range)
        case .durationNanos: fillOptional(c.durationNanos, range)
        case .period: fillOptional(c.period, range)
        case .defaultSampleType: fillOptional(c.defaultSampleType, range)
        case .stacktraceID:
            fillListLevels(c.sampleOffsets, range, nested: false)
            c.sampleStacktraceIDs.withUnsafeBufferPointer { ids in
                ids.withMemoryRebound(to: Int64.self) { ints.append(contentsOf: $0[c.sampleOffsets[range.lowerBound] ..< c.sampleOffsets[range.upperBound]]) }
            }
        case .value:
            fillListLevels(c.sampleOffsets, range, nested: false)
            ints.append(contentsOf: c.sampleValues[c.sampleOffsets[range.lowerBound] ..< c.sampleOffsets[range.upperBound]])
        case .labelKey, .labelStr, .labelNum, .labelNumUnit:
            // §2.5: pprof sample labels are never persisted; each sample has an empty Labels list.
            fillListLevels(c.sampleOffsets, range, nested: true)
        case .spanID:
            fillListLevels(c.sampleOffsets, range, nested: true)
            fillSpans(c, range, &dictionary)
        case .traceID:
            fillListLevels(c.sampleOffsets, range, nested: true)
            fillTraces(c, range, &dictionary)
        case .comments:
            fillListLevels(c.commentOffsets, range, nested: false)
            ints.append(contentsOf: c.comments[c.commentOffsets[range.lowerBound] ..< c.commentOffsets[range.upperBound]])
        case .annotationKey, .annotationValue:
            fillListLevels(c.annotationOffsets, range, nested: false)
            strings = c.annotationOffsets[range.lowerBound] ..< c.annotationOffsets[range.upperBound]
        }
    }

    /// §4: optional scalars store 0 as null.
    private mutating func fillOptional(_ values: [Int64], _ range: Range<Int>) {
        for r in range {
            let v = values[r]
            definitionLevels.append(v == 0 ? 0 : 1)
            if v != 0 { ints.append(v) }
        }
        entries = rows
    }

    /// Levels of a list column: one entry per element, or one for an empty list; the first entry
    /// of a row at repetition 0, the others at 1; definition 0 for an empty list, else 1
    /// (`fillSpans`/`fillTraces` raise present values to 2 afterwards).
    private mutating func fillListLevels(_ offsets: [Int], _ range: Range<Int>, nested: Bool) {
        var count = 0
        for r in range { count += Swift.max(offsets[r + 1] - offsets[r], 1) }
        entries = count
        repetitionLevels.append(contentsOf: repeatElement(1, count: count))
        definitionLevels.append(contentsOf: repeatElement(1, count: count))
        var empty = 0
        repetitionLevels.withUnsafeMutableBufferPointer { rep in
            definitionLevels.withUnsafeMutableBufferPointer { def in
                var e = 0
                for r in range {
                    let n = offsets[r + 1] - offsets[r]
                    rep[e] = 0
                    if n == 0 {
                        def[e] = 0
                        empty += 1
                    }
                    e += Swift.max(n, 1)
                }
            }
        }
        emptyLists = empty
    }

    /// §4: a row with span IDs stores every sample's span (0 included) at level 2.
    private mutating func fillSpans(_ c: ProfileColumns, _ range: Range<Int>, _ dictionary: inout ChunkDictionary) {
        var e = 0
        for r in range {
            let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
            if c.rowHasSpanIDs[r] {
                for i in samples {
                    definitionLevels[e + i - samples.lowerBound] = 2
                    ints.append(Int64(bitPattern: c.sampleSpanIDs[i]))
                    indices.append(dictionary.nextIndex())
                }
            }
            e += Swift.max(samples.count, 1)
        }
    }

    /// §4: an all-zero trace ID is stored as null; others at level 2.
    private mutating func fillTraces(_ c: ProfileColumns, _ range: Range<Int>, _ dictionary: inout ChunkDictionary) {
        if dictionary.count == 0 { return } // no sample of the chunk has a trace ID
        var e = 0
        for r in range {
            let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
            for i in samples where c.sampleTraceIDs[i] != 0 {
                definitionLevels[e + i - samples.lowerBound] = 2
                fixed16.append(c.sampleTraceIDs[i])
                indices.append(dictionary.nextIndex())
            }
            e += Swift.max(samples.count, 1)
        }
    }
}

/// parquet-go's buffered size of a page (§5 "Page cutting"), the sum over its rows of level
/// entries plus the values' fixed-width or PLAIN size, computed from the columns without
/// filling a buffer.
enum PageSize {
    /// `dictionary` is the chunk's (empty for other columns): without values, nothing to count.
    static func of(_ column: ProfileColumn, _ c: ProfileColumns, rows range: Range<Int>, dictionary: ChunkDictionary) -> Int {
        switch column {
        case .id: return 16 * range.count
        case .seriesIndex, .stacktracePartition, .totalValue, .timeNanos: return 8 * range.count
        case .dropFrames: return optional(c.dropFrames, range)
        case .keepFrames: return optional(c.keepFrames, range)
        case .durationNanos: return optional(c.durationNanos, range)
        case .period: return optional(c.period, range)
        case .defaultSampleType: return optional(c.defaultSampleType, range)
        case .stacktraceID, .value:
            return 2 * listEntries(c.sampleOffsets, range) + 8 * elements(c.sampleOffsets, range)
        case .labelKey, .labelStr, .labelNum, .labelNumUnit:
            return 2 * listEntries(c.sampleOffsets, range)
        case .spanID:
            var spans = 0
            for r in range where c.rowHasSpanIDs[r] { spans += c.sampleOffsets[r + 1] - c.sampleOffsets[r] }
            return 2 * listEntries(c.sampleOffsets, range) + 8 * spans
        case .traceID:
            var traces = 0
            if dictionary.count > 0 {
                for i in elementRange(c.sampleOffsets, range) where c.sampleTraceIDs[i] != 0 { traces += 1 }
            }
            return 2 * listEntries(c.sampleOffsets, range) + 16 * traces
        case .comments:
            return 2 * listEntries(c.commentOffsets, range) + 8 * elements(c.commentOffsets, range)
        case .annotationKey, .annotationValue:
            let values = column == .annotationKey ? c.annotationKeys : c.annotationValues
            var bytes = 0
            for i in elementRange(c.annotationOffsets, range) { bytes += values[i].count + 4 }
            return 2 * listEntries(c.annotationOffsets, range) + bytes
        }
    }

    private static func optional(_ values: [Int64], _ range: Range<Int>) -> Int {
        var size = 0
        for r in range { size += values[r] == 0 ? 1 : 9 }
        return size
    }

    private static func listEntries(_ offsets: [Int], _ range: Range<Int>) -> Int {
        var count = 0
        for r in range { count += Swift.max(offsets[r + 1] - offsets[r], 1) }
        return count
    }

    private static func elementRange(_ offsets: [Int], _ range: Range<Int>) -> Range<Int> {
        offsets[range.lowerBound] ..< offsets[range.upperBound]
    }

    private static func elements(_ offsets: [Int], _ range: Range<Int>) -> Int { elementRange(offsets, range).count }
}

/// The dictionary of a SpanID or TraceID chunk: distinct non-null values in first-occurrence order
/// over the chunk (§5 "Dictionary"), built before the chunk's first page is written, with every
/// non-null value's index in chunk order so pages take them without a second lookup.
struct ChunkDictionary {
    var spans: [UInt64] = []
    var traces: [UInt128] = []
    private var valueIndices: [UInt32] = []
    private var next = 0

    init() {}

    init(for column: ProfileColumn, of c: ProfileColumns) {
        switch column {
        case .spanID:
            var index: [UInt64: UInt32] = [:]
            for r in 0 ..< c.rowCount where c.rowHasSpanIDs[r] {
                for i in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                    valueIndices.append(Self.intern(c.sampleSpanIDs[i], &index, &spans))
                }
            }
        case .traceID:
            var index: [UInt128: UInt32] = [:]
            for trace in c.sampleTraceIDs where trace != 0 {
                valueIndices.append(Self.intern(trace, &index, &traces))
            }
        default:
            break
        }
    }

    private static func intern<V: Hashable>(_ v: V, _ index: inout [V: UInt32], _ values: inout [V]) -> UInt32 {
        if let i = index[v] { return i }
        let i = UInt32(values.count)
        index[v] = i
        values.append(v)
        return i
    }

    var count: Int { spans.count + traces.count }

    /// The index of the next non-null value of the chunk.
    mutating func nextIndex() -> UInt32 {
        defer { next += 1 }
        return valueIndices[next]
    }
}
