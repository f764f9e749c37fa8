/// Level entries and non-null values of the page being built for one column. One buffer is reused
/// for every page of every column (cleared with `keepingCapacity`), so writing allocates nothing
/// per row or per sample once the buffers have grown.
struct PageBuffer {
    var repetitionLevels: [UInt8] = []
    var definitionLevels: [UInt8] = []
    /// INT32 (sign-extended) and INT64 values; for dictionary columns the SpanID values.
    var ints: [Int64] = []
    /// FIXED_LEN_BYTE_ARRAY(16) values.
    var fixed16: [UInt128] = []
    /// BYTE_ARRAY values as indices into the annotation arrays.
    var strings: [Int] = []
    var stringBytes = 0
    /// Dictionary indices of the values (SpanID, TraceID).
    var indices: [UInt32] = []
    var entries = 0
    var rows = 0
    /// Whether the current column has repetition / definition levels (set once per chunk).
    private var storesRepetition = false
    private var storesDefinition = false

    var valueCount: Int { ints.count + fixed16.count + strings.count }
    var nullCount: Int { entries - valueCount }

    /// parquet-go's buffered-size test for cutting pages (§5 "Page cutting"), approximated by
    /// levels plus the values' fixed-width or PLAIN size.
    var estimatedBytes: Int {
        repetitionLevels.count + definitionLevels.count + ints.count * 8 + fixed16.count * 16 + stringBytes + strings.count * 4
    }

    /// Clears the buffer for the first page of `column`'s chunk.
    mutating func start(_ column: ProfileColumn) {
        reset()
        storesRepetition = column.maxRepetitionLevel > 0
        storesDefinition = column.maxDefinitionLevel > 0
    }

    mutating func reset() {
        repetitionLevels.removeAll(keepingCapacity: true)
        definitionLevels.removeAll(keepingCapacity: true)
        ints.removeAll(keepingCapacity: true)
        fixed16.removeAll(keepingCapacity: true)
        strings.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
        stringBytes = 0
        entries = 0
        rows = 0
    }

    @inline(__always)
    private mutating func level(_ rep: UInt8, _ def: UInt8, _ column: ProfileColumn) {
        if storesRepetition { repetitionLevels.append(rep) }
        if storesDefinition { definitionLevels.append(def) }
        entries += 1
    }

    /// Appends the level entries and values of `rows` for `column` (profiles-parquet.md §4).
    mutating func append(_ column: ProfileColumn, of c: ProfileColumns, rows range: Range<Int>, dictionary: ChunkDictionary) {
        rows += range.count
        switch column {
        case .id:
            for r in range { fixed16.append(c.ids[r]) }
            entries += range.count
        case .seriesIndex:
            for r in range { ints.append(Int64(Int32(bitPattern: c.seriesIndex[r]))) }
            entries += range.count
        case .stacktracePartition:
            for r in range { ints.append(Int64(bitPattern: c.stacktracePartition[r])) }
            entries += range.count
        case .totalValue:
            ints.append(contentsOf: c.totalValue[range])
            entries += range.count
        case .timeNanos:
            ints.append(contentsOf: c.timeNanos[range])
            entries += range.count
        case .dropFrames: appendOptional(c.dropFrames, range, column)
        case .keepFrames: appendOptional(c.keepFrames, range, column)
        case .durationNanos: appendOptional(c.durationNanos, range, column)
        case .period: appendOptional(c.period, range, column)
        case .defaultSampleType: appendOptional(c.defaultSampleType, range, column)
        case .stacktraceID:
            for r in range {
                let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
                if samples.isEmpty { level(0, 0, column); continue }
                for i in samples {
                    level(i == samples.lowerBound ? 0 : 1, 1, column)
                    ints.append(Int64(bitPattern: c.sampleStacktraceIDs[i]))
                }
            }
        case .value:
            for r in range {
                let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
                if samples.isEmpty { level(0, 0, column); continue }
                for i in samples {
                    level(i == samples.lowerBound ? 0 : 1, 1, column)
                    ints.append(c.sampleValues[i])
                }
            }
        case .labelKey, .labelStr, .labelNum, .labelNumUnit:
            // §2.5: pprof sample labels are never persisted; each sample has an empty Labels list.
            for r in range {
                let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
                if samples.isEmpty { level(0, 0, column); continue }
                for i in samples { level(i == samples.lowerBound ? 0 : 1, 1, column) }
            }
        case .spanID:
            for r in range {
                let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
                if samples.isEmpty { level(0, 0, column); continue }
                let hasSpans = c.rowHasSpanIDs[r]
                for i in samples {
                    let rep: UInt8 = i == samples.lowerBound ? 0 : 1
                    guard hasSpans else { level(rep, 1, column); continue }
                    // §4: a span of 0 is stored as a real 0 when the row has spans.
                    level(rep, 2, column)
                    ints.append(Int64(bitPattern: c.sampleSpanIDs[i]))
                    indices.append(dictionary.index(span: c.sampleSpanIDs[i]))
                }
            }
        case .traceID:
            for r in range {
                let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
                if samples.isEmpty { level(0, 0, column); continue }
                for i in samples {
                    let rep: UInt8 = i == samples.lowerBound ? 0 : 1
                    let trace = c.sampleTraceIDs[i]
                    // §4: an all-zero trace ID is stored as null.
                    guard trace != 0 else { level(rep, 1, column); continue }
                    level(rep, 2, column)
                    fixed16.append(trace)
                    indices.append(dictionary.index(trace: trace))
                }
            }
        case .comments:
            for r in range {
                let list = c.commentOffsets[r] ..< c.commentOffsets[r + 1]
                if list.isEmpty { level(0, 0, column); continue }
                for i in list {
                    level(i == list.lowerBound ? 0 : 1, 1, column)
                    ints.append(c.comments[i])
                }
            }
        case .annotationKey, .annotationValue:
            let values = column == .annotationKey ? c.annotationKeys : c.annotationValues
            for r in range {
                let list = c.annotationOffsets[r] ..< c.annotationOffsets[r + 1]
                if list.isEmpty { level(0, 0, column); continue }
                for i in list {
                    level(i == list.lowerBound ? 0 : 1, 1, column)
                    strings.append(i)
                    stringBytes += values[i].count
                }
            }
        }
    }

    /// §4: optional scalars store 0 as null.
    private mutating func appendOptional(_ values: [Int64], _ range: Range<Int>, _ column: ProfileColumn) {
        for r in range {
            let v = values[r]
            if v == 0 { level(0, 0, column) } else { level(0, 1, column); ints.append(v) }
        }
    }
}

/// The dictionary of a SpanID or TraceID chunk: distinct non-null values in first-occurrence order
/// over the chunk (§5 "Dictionary"), built before the chunk's first page is written.
struct ChunkDictionary {
    var spans: [UInt64] = []
    var traces: [UInt128] = []
    private var spanIndex: [UInt64: UInt32] = [:]
    private var traceIndex: [UInt128: UInt32] = [:]

    init() {}

    init(for column: ProfileColumn, of c: ProfileColumns) {
        switch column {
        case .spanID:
            for r in 0 ..< c.rowCount where c.rowHasSpanIDs[r] {
                for i in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] where spanIndex[c.sampleSpanIDs[i]] == nil {
                    spanIndex[c.sampleSpanIDs[i]] = UInt32(spans.count)
                    spans.append(c.sampleSpanIDs[i])
                }
            }
        case .traceID:
            for trace in c.sampleTraceIDs where trace != 0 && traceIndex[trace] == nil {
                traceIndex[trace] = UInt32(traces.count)
                traces.append(trace)
            }
        default:
            break
        }
    }

    var count: Int { spans.count + traces.count }

    func index(span: UInt64) -> UInt32 { spanIndex[span]! }
    func index(trace: UInt128) -> UInt32 { traceIndex[trace]! }
}
