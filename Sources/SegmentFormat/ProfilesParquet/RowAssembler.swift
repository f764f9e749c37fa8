import BinaryCoding

/// Rebuilds `ProfileColumns` rows from the level streams of one row group (profiles-parquet.md §4).
enum RowAssembler {
    static func append(_ group: FileMetadata.RowGroup, of file: ParquetFile, to c: inout ProfileColumns) throws(DecodeError) {
        let at = file.footerStart
        guard group.numRows >= 0, group.numRows <= Int64(file.bytes.count) else {
            throw DecodeError(.malformed, at: at, "row group claims \(group.numRows) rows")
        }
        let rows = Int(group.numRows)
        func required(_ column: ProfileColumn) throws(DecodeError) -> ColumnData {
            guard let data = try file.column(column, in: group) else {
                throw DecodeError(.malformed, at: at, "missing column \(column.path.joined(separator: "."))")
            }
            return data
        }

        let ids = try required(.id)
        try expectFlat(ids, ids.fixed16.count, rows, .id, at)
        c.ids += ids.fixed16
        let series = try required(.seriesIndex)
        try expectFlat(series, series.ints.count, rows, .seriesIndex, at)
        c.seriesIndex += series.ints.map { UInt32(truncatingIfNeeded: $0) }
        let partitions = try required(.stacktracePartition)
        try expectFlat(partitions, partitions.ints.count, rows, .stacktracePartition, at)
        c.stacktracePartition += partitions.ints.map { UInt64(bitPattern: $0) }
        let totals = try required(.totalValue)
        try expectFlat(totals, totals.ints.count, rows, .totalValue, at)
        c.totalValue += totals.ints
        let times = try required(.timeNanos)
        try expectFlat(times, times.ints.count, rows, .timeNanos, at)
        c.timeNanos += times.ints

        try appendOptionalScalar(file.column(.dropFrames, in: group), rows, .dropFrames, at, to: &c.dropFrames)
        try appendOptionalScalar(file.column(.keepFrames, in: group), rows, .keepFrames, at, to: &c.keepFrames)
        try appendOptionalScalar(file.column(.durationNanos, in: group), rows, .durationNanos, at, to: &c.durationNanos)
        try appendOptionalScalar(file.column(.period, in: group), rows, .period, at, to: &c.period)
        try appendOptionalScalar(file.column(.defaultSampleType, in: group), rows, .defaultSampleType, at, to: &c.defaultSampleType)

        try appendSamples(group, of: file, rows: rows, to: &c)

        if let comments = try file.column(.comments, in: group) {
            try appendListOffsets(comments, rows: rows, .comments, at, to: &c.commentOffsets)
            c.comments += comments.ints
        } else {
            c.commentOffsets += repeatElement(c.comments.count, count: rows)
        }

        if let keys = try file.column(.annotationKey, in: group) {
            guard let values = try file.column(.annotationValue, in: group),
                  values.repetitionLevels == keys.repetitionLevels, values.definitionLevels == keys.definitionLevels else {
                throw DecodeError(.malformed, at: at, "annotation keys and values differ in shape")
            }
            try appendListOffsets(keys, rows: rows, .annotationKey, at, to: &c.annotationOffsets)
            c.annotationKeys += keys.byteArrays
            c.annotationValues += values.byteArrays
        } else {
            c.annotationOffsets += repeatElement(c.annotationKeys.count, count: rows)
        }
    }

    private static func appendSamples(_ group: FileMetadata.RowGroup, of file: ParquetFile, rows: Int,
                                      to c: inout ProfileColumns) throws(DecodeError) {
        let at = file.footerStart
        guard let ids = try file.column(.stacktraceID, in: group), let values = try file.column(.value, in: group) else {
            throw DecodeError(.malformed, at: at, "missing sample columns")
        }
        guard values.repetitionLevels == ids.repetitionLevels, values.definitionLevels == ids.definitionLevels else {
            throw DecodeError(.malformed, at: at, "sample values and stack IDs differ in shape")
        }
        let firstSample = c.sampleCount
        let firstRow = c.rowCount - rows
        try appendListOffsets(ids, rows: rows, .stacktraceID, at, to: &c.sampleOffsets)
        c.sampleStacktraceIDs += ids.ints.map { UInt64(bitPattern: $0) }
        c.sampleValues += values.ints

        for label in [ProfileColumn.labelKey, .labelStr, .labelNum, .labelNumUnit] {
            guard let data = try file.column(label, in: group) else { continue }
            if data.definitionLevels.contains(where: { $0 >= 2 }) {
                throw DecodeError(.unsupported, at: at, "pprof sample labels are not persisted by Pyroscope (§2.5)")
            }
            try expectSampleShape(data, ids, label, at)
        }

        let samples = c.sampleCount - firstSample
        c.rowHasSpanIDs += repeatElement(false, count: rows)
        c.sampleSpanIDs += repeatElement(0, count: samples)
        c.sampleTraceIDs += repeatElement(0, count: samples)
        if let spans = try file.column(.spanID, in: group) {
            try expectSampleShape(spans, ids, .spanID, at)
            var value = 0, sample = firstSample, row = firstRow - 1
            for i in 0 ..< spans.definitionLevels.count {
                if spans.repetitionLevels[i] == 0 { row += 1 }
                guard spans.definitionLevels[i] == 2 else { if spans.definitionLevels[i] == 1 { sample += 1 }; continue }
                c.rowHasSpanIDs[row] = true
                c.sampleSpanIDs[sample] = UInt64(bitPattern: spans.ints[value])
                value += 1
                sample += 1
            }
        }
        if let traces = try file.column(.traceID, in: group) {
            try expectSampleShape(traces, ids, .traceID, at)
            var value = 0, sample = firstSample
            for def in traces.definitionLevels where def >= 1 {
                if def == 2 {
                    c.sampleTraceIDs[sample] = traces.fixed16[value]
                    value += 1
                }
                sample += 1
            }
        }
    }

    /// A sample-level column must have one entry per sample (or per empty row), like `StacktraceID`.
    private static func expectSampleShape(_ data: ColumnData, _ ids: ColumnData, _ column: ProfileColumn, _ at: Int) throws(DecodeError) {
        guard data.repetitionLevels == ids.repetitionLevels,
              zip(data.definitionLevels, ids.definitionLevels).allSatisfy({ ($0 >= 1) == ($1 >= 1) }) else {
            throw DecodeError(.malformed, at: at, "\(column.path.joined(separator: ".")) does not line up with the samples")
        }
    }

    private static func expectFlat(_ data: ColumnData, _ valueCount: Int, _ rows: Int, _ column: ProfileColumn, _ at: Int) throws(DecodeError) {
        guard data.definitionLevels.count == rows, valueCount == rows else {
            throw DecodeError(.malformed, at: at, "\(column.path.joined(separator: ".")) holds \(valueCount) values for \(rows) rows")
        }
    }

    /// Optional scalars: null reads as 0 (§4: 0 ⇔ null).
    private static func appendOptionalScalar(_ data: ColumnData?, _ rows: Int, _ column: ProfileColumn, _ at: Int,
                                             to out: inout [Int64]) throws(DecodeError) {
        guard let data else {
            out += repeatElement(0, count: rows)
            return
        }
        try expectFlat(data, data.definitionLevels.count, rows, column, at)
        var value = 0
        for def in data.definitionLevels {
            out.append(def == 1 ? data.ints[value] : 0)
            if def == 1 { value += 1 }
        }
    }

    /// Appends one offset per row for a list column (rep 0 starts a row, def ≥ 1 is an element).
    private static func appendListOffsets(_ data: ColumnData, rows: Int, _ column: ProfileColumn, _ at: Int,
                                          to offsets: inout [Int]) throws(DecodeError) {
        let base = offsets[offsets.count - 1]
        var elements = 0
        var rowsSeen = 0
        for i in 0 ..< data.definitionLevels.count {
            let rep = data.repetitionLevels[i], def = data.definitionLevels[i]
            if rep == 0 {
                if rowsSeen > 0 { offsets.append(base + elements) }
                rowsSeen += 1
            } else if rowsSeen == 0 || def == 0 {
                throw DecodeError(.malformed, at: at, "\(column.path.joined(separator: ".")): bad repetition at entry \(i)")
            }
            if def >= 1 { elements += 1 }
        }
        guard rowsSeen == rows else {
            throw DecodeError(.malformed, at: at, "\(column.path.joined(separator: ".")) holds \(rowsSeen) rows, row group \(rows)")
        }
        if rows > 0 { offsets.append(base + elements) }
    }
}
