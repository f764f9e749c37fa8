import BinaryCoding

/// The profiles table in columnar form (profiles-parquet.md §3): one entry per row in the per-row
/// arrays, nested lists flattened with `rows + 1` offsets, so an accumulator can fill it without a
/// per-sample allocation.
///
/// Null conventions (§4): a 0 in `dropFrames`, `keepFrames`, `durationNanos`, `period` or
/// `defaultSampleType` is stored as null; a zero trace ID is stored as null; span IDs are stored
/// (0 included) only for rows with `rowHasSpanIDs`.
/// 16-byte values (`ids`, `sampleTraceIDs`) hold the bytes big-endian: the first byte on the wire
/// is the most significant byte of the `UInt128`.
public struct ProfileColumns: Sendable, Equatable {
    public var ids: [UInt128] = []
    public var seriesIndex: [UInt32] = []
    public var stacktracePartition: [UInt64] = []
    /// Σ sample values (uint64 on the wire, bit-cast).
    public var totalValue: [Int64] = []

    /// Row `r`'s samples are `sampleOffsets[r] ..< sampleOffsets[r + 1]`.
    public var sampleOffsets: [Int] = [0]
    public var sampleStacktraceIDs: [UInt64] = []
    public var sampleValues: [Int64] = []
    /// One entry per sample, meaningful only where the row has span IDs (0 otherwise); or empty
    /// when no row has span IDs (most flushes: 8 bytes a sample not copied).
    public var sampleSpanIDs: [UInt64] = []
    public var rowHasSpanIDs: [Bool] = []
    /// One entry per sample; 0 means "no trace ID" (stored as null, §4), so rows without trace IDs
    /// simply hold zeros. Empty when no sample has a trace ID (16 bytes a sample not copied).
    public var sampleTraceIDs: [UInt128] = []

    public var dropFrames: [Int64] = []
    public var keepFrames: [Int64] = []
    public var timeNanos: [Int64] = []
    public var durationNanos: [Int64] = []
    public var period: [Int64] = []

    /// Row `r`'s comments are `commentOffsets[r] ..< commentOffsets[r + 1]`.
    public var commentOffsets: [Int] = [0]
    public var comments: [Int64] = []
    public var defaultSampleType: [Int64] = []

    /// Row `r`'s annotations are `annotationOffsets[r] ..< annotationOffsets[r + 1]`.
    public var annotationOffsets: [Int] = [0]
    public var annotationKeys: [ByteString] = []
    public var annotationValues: [ByteString] = []

    public init() {}

    public var rowCount: Int { ids.count }
    public var sampleCount: Int { sampleStacktraceIDs.count }

    /// Reserves room for `rows` rows and `samples` samples (accumulators call this once per flush).
    public mutating func reserve(rows: Int, samples: Int) {
        ids.reserveCapacity(rows); seriesIndex.reserveCapacity(rows); stacktracePartition.reserveCapacity(rows)
        totalValue.reserveCapacity(rows); sampleOffsets.reserveCapacity(rows + 1)
        rowHasSpanIDs.reserveCapacity(rows)
        dropFrames.reserveCapacity(rows); keepFrames.reserveCapacity(rows); timeNanos.reserveCapacity(rows)
        durationNanos.reserveCapacity(rows); period.reserveCapacity(rows); commentOffsets.reserveCapacity(rows + 1)
        defaultSampleType.reserveCapacity(rows); annotationOffsets.reserveCapacity(rows + 1)
        sampleStacktraceIDs.reserveCapacity(samples); sampleValues.reserveCapacity(samples)
        sampleSpanIDs.reserveCapacity(samples); sampleTraceIDs.reserveCapacity(samples)
    }

    /// Checks the shape invariants the writer relies on (all per-row arrays agree, offsets are
    /// monotone and end at the flattened counts).
    public var isConsistent: Bool {
        let rows = ids.count
        let perRow = [seriesIndex.count, stacktracePartition.count, totalValue.count, rowHasSpanIDs.count,
                      dropFrames.count, keepFrames.count, timeNanos.count,
                      durationNanos.count, period.count, defaultSampleType.count]
        guard perRow.allSatisfy({ $0 == rows }) else { return false }
        func monotone(_ o: [Int], _ end: Int) -> Bool {
            guard o.count == rows + 1, o.first == 0, o.last == end else { return false }
            return zip(o, o.dropFirst()).allSatisfy { $0 <= $1 }
        }
        let samples = sampleStacktraceIDs.count
        return monotone(sampleOffsets, samples) && sampleValues.count == samples
            && (sampleSpanIDs.count == samples || sampleSpanIDs.isEmpty && !rowHasSpanIDs.contains(true))
            && (sampleTraceIDs.count == samples || sampleTraceIDs.isEmpty)
            && monotone(commentOffsets, comments.count)
            && monotone(annotationOffsets, annotationKeys.count) && annotationValues.count == annotationKeys.count
    }
}

extension ProfileColumns {
    /// The order the writer's callers guarantee (§2.6, §2.5): rows by (SeriesIndex, TimeNanos),
    /// each row's samples by stack-trace ID.
    public var isOrdered: Bool {
        for r in 1 ..< max(rowCount, 1) where (seriesIndex[r], timeNanos[r]) < (seriesIndex[r - 1], timeNanos[r - 1]) {
            return false
        }
        for r in 0 ..< rowCount {
            let samples = sampleOffsets[r] ..< sampleOffsets[r + 1]
            for i in samples.dropFirst() where sampleStacktraceIDs[i] < sampleStacktraceIDs[i - 1] { return false }
        }
        return true
    }
}

/// A decoded `profiles.parquet` section.
public struct ProfilesTable: Sendable {
    public var columns: ProfileColumns
    /// Leaf columns in the file's schema: 18 (2024 goldens), 20 (no TraceID) or 21 (current).
    public var schemaColumnCount: Int
    public var rowCount: Int

    public init(columns: ProfileColumns, schemaColumnCount: Int, rowCount: Int) {
        self.columns = columns
        self.schemaColumnCount = schemaColumnCount
        self.rowCount = rowCount
    }
}
