import Arena
import BinaryCoding
import Pprof

/// The head of one dataset (tenant, service_name) within a shard: its series, rows (whose
/// samples are runs of the shard's `SampleArena`) and symbols partition 0
/// (profiles-parquet.md §2.3–§2.6). Columns are append-only until `reset()`, which keeps
/// their capacity.
struct DatasetHead {
    let tenant: ByteString
    let service: ByteString

    var symbols: SymbolPartitionBuilder

    // Series, in creation order; their file order is decided at flush (§2.6).
    private(set) var seriesLabels = LabelSetArena()
    private(set) var seriesFingerprint: [UInt64] = []
    private(set) var seriesMinTime: [Int64] = []
    private(set) var seriesMaxTime: [Int64] = []
    private var seriesByFingerprint: [UInt64: UInt32] = [:]

    // Rows, in arrival order.
    private(set) var rowSeries: [UInt32] = []
    private(set) var rowID: [UInt128] = []
    private(set) var rowTotal: [UInt64] = []
    private(set) var rowTime: [Int64] = []
    private(set) var rowDuration: [Int64] = []
    private(set) var rowDropFrames: [Int64] = []
    private(set) var rowKeepFrames: [Int64] = []
    private(set) var rowDefaultSampleType: [Int64] = []
    private(set) var rowSampleStart: [UInt32] = []
    private(set) var rowSampleCount: [UInt32] = []
    private(set) var rowHasSpans: [Bool] = []
    private(set) var rowCommentStart: [UInt32] = []
    private(set) var rowCommentCount: [UInt32] = []
    private(set) var rowAnnotations: [UInt32] = []

    /// Samples of this dataset's rows; they live in the shard's `SampleArena`, one run per row
    /// (`rowSampleStart` is the run's arena position).
    private(set) var sampleCount = 0
    private(set) var comments: [Int64] = []
    /// One set per push that produced rows here (shared by that push's rows).
    private(set) var annotations = LabelSetArena()
    private var annotationsOfPush: Int = -1

    private(set) var minTimeNanos = Int64.max
    private(set) var maxTimeNanos = Int64.min
    /// Pushes routed here since the last reset, with or without rows (segment-object.md §10).
    private(set) var pushCount = 0

    /// `arena` is the shard's column arena (the symbols' columns live there).
    init(tenant: ByteString, service: ByteString, arena: ColumnArena) {
        self.tenant = tenant
        self.service = service
        symbols = SymbolPartitionBuilder(in: arena)
    }

    var rowCount: Int { rowSeries.count }
    var seriesCount: Int { seriesFingerprint.count }

    var accumulatedBytes: Int {
        symbols.accumulatedBytes + seriesLabels.byteCount + seriesFingerprint.count * 40
            + rowSeries.count * 96 + sampleCount * SampleArena.bytesPerSample + comments.count * 8 + annotations.byteCount
    }

    /// Bytes the main columns have reserved (capacity, not count): what `reset` keeps. Samples
    /// are the shard arena's (`SampleArena.committedBytes`).
    var reservedBytes: Int {
        symbols.reservedBytes + seriesLabels.reservedBytes + annotations.reservedBytes
            + seriesFingerprint.capacity * 8 + rowSeries.capacity * 4 + rowID.capacity * 16 + rowTotal.capacity * 8
            + rowTime.capacity * 8 + rowSampleStart.capacity * 4 + comments.capacity * 8
    }

    mutating func reset() {
        symbols.reset()
        seriesLabels.reset()
        seriesFingerprint.removeAll(keepingCapacity: true)
        seriesMinTime.removeAll(keepingCapacity: true)
        seriesMaxTime.removeAll(keepingCapacity: true)
        seriesByFingerprint.removeAll(keepingCapacity: true)
        rowSeries.removeAll(keepingCapacity: true)
        rowID.removeAll(keepingCapacity: true)
        rowTotal.removeAll(keepingCapacity: true)
        rowTime.removeAll(keepingCapacity: true)
        rowDuration.removeAll(keepingCapacity: true)
        rowDropFrames.removeAll(keepingCapacity: true)
        rowKeepFrames.removeAll(keepingCapacity: true)
        rowDefaultSampleType.removeAll(keepingCapacity: true)
        rowSampleStart.removeAll(keepingCapacity: true)
        rowSampleCount.removeAll(keepingCapacity: true)
        rowHasSpans.removeAll(keepingCapacity: true)
        rowCommentStart.removeAll(keepingCapacity: true)
        rowCommentCount.removeAll(keepingCapacity: true)
        rowAnnotations.removeAll(keepingCapacity: true)
        sampleCount = 0
        comments.removeAll(keepingCapacity: true)
        annotations.reset()
        annotationsOfPush = -1
        minTimeNanos = .max
        maxTimeNanos = .min
        pushCount = 0
    }

    /// Called once per push routed to this dataset, before its groups.
    mutating func beginPush() {
        pushCount += 1
        annotationsOfPush = -1
    }

    /// `Head.Ingest` of one group of a push (profiles-parquet.md §2.3–§2.5).
    mutating func ingest(group g: Int, _ p: PprofTables, _ x: inout IngestScratch, keys: SpecialLabelKeys, id: UInt128,
                         arena: SampleArena) {
        let samples = x.split.groupSamples[Int(x.split.groupSampleStart[g]) ..< Int(x.split.groupSampleStart[g] + x.split.groupSampleCount[g])]
        if samples.isEmpty { return }

        x.split.groupLabels.load(x.split.labelSet(ofGroup: g), into: &x.baseLabels)
        x.baseLabels.delete(LabelNames.delta)
        x.baseLabels.delete(LabelNames.order)

        x.beginGroup()
        let whole = x.split.isWholeProfile
        if whole {
            symbols.ingestWholeProfile(p, &x)
        } else {
            symbols.ingestExportedGroup(p, samples: samples, keys, &x)
        }
        insertStacks(samples, p, &x)
        let (hasSpans, hasTraces) = spanAndTracePresence(whole: whole, samples, p, keys, x)
        collectSpansAndTraces(samples, p, keys, hasSpans: hasSpans, hasTraces: hasTraces, &x)

        // Entries sorted by stack-trace id; ties keep sample order (see README: upstream's
        // unstable sort may order ties differently, values are unaffected).
        x.order.removeAll(keepingCapacity: true)
        for k in 0 ..< samples.count { x.order.append(UInt64(x.stackIDs[k]) << 32 | UInt64(k)) }
        StableSort.sortByHighWord(&x.order, buffer: &x.orderBuffer, counts: &x.radixCounts)

        var producedRow = false
        for t in 0 ..< p.typeCount {
            if appendRow(type: t, samples, p, &x, hasSpans: hasSpans, hasTraces: hasTraces, whole: whole, id: id, arena: arena) {
                producedRow = true
            }
        }
        if producedRow {
            minTimeNanos = min(minTimeNanos, p.timeNanos)
            maxTimeNanos = max(maxTimeNanos, p.timeNanos)
        }
    }

    private mutating func insertStacks(_ samples: ArraySlice<Int32>, _ p: PprofTables, _ x: inout IngestScratch) {
        // The id column is moved out of `x` and written through a pointer; the tree reads each
        // sample's frames in place through the location map (no per-stack copy).
        var ids = x.stackIDs
        x.stackIDs = []
        ids.removeAll(keepingCapacity: true)
        ids.append(contentsOf: repeatElement(0, count: samples.count))
        ids.withUnsafeMutableBufferPointer { ids in
            samples.withUnsafeBufferPointer { samples in
                x.locationMap.withUnsafeBufferPointer { map in
                    symbols.insertStacks(samples: samples, starts: p.sampleLocationStarts, frames: p.sampleLocationIndices,
                                         map: map, ids: ids)
                }
            }
        }
        x.stackIDs = ids
    }

    /// Spans/trace ids are on when the (sub-)profile's string table holds "span_id" /
    /// "trace_id" (§2.5). A split group's exported table holds them when one of its samples
    /// carries such a label (the renamed "span_id" may lie past the source table) or when an
    /// exported symbol string is spelled so.
    private func spanAndTracePresence(whole: Bool, _ samples: ArraySlice<Int32>, _ p: PprofTables,
                                      _ keys: SpecialLabelKeys, _ x: IngestScratch) -> (Bool, Bool) {
        if whole { return (keys.hasSpanString, keys.hasTraceString) }
        var spans = x.exportHasSpanString, traces = x.exportHasTraceString
        for s in samples {
            for l in Int(p.sampleLabelStarts[Int(s)]) ..< Int(p.sampleLabelStarts[Int(s) + 1]) {
                if keys.isSpan(p.sampleLabels[l].key) { spans = true }
                if keys.isTrace(p.sampleLabels[l].key) { traces = true }
            }
        }
        return (spans, traces)
    }

    /// Per sample: the span = the valid `span_id` label with the lowest value index (labels
    /// are sorted by (key, str) during the split), 16 hex chars read little-endian; trace =
    /// 32 hex chars; invalid or missing ⇒ 0.
    private func collectSpansAndTraces(_ samples: ArraySlice<Int32>, _ p: PprofTables, _ keys: SpecialLabelKeys,
                                       hasSpans: Bool, hasTraces: Bool, _ x: inout IngestScratch) {
        x.spans.removeAll(keepingCapacity: true)
        x.traceIDs.removeAll(keepingCapacity: true)
        guard hasSpans || hasTraces else { return }
        for s in samples {
            var span: UInt64 = 0, spanStr = Int64.max
            var trace: UInt128 = 0, traceStr = Int64.max
            for l in Int(p.sampleLabelStarts[Int(s)]) ..< Int(p.sampleLabelStarts[Int(s) + 1]) {
                let key = p.sampleLabels[l].key, str = p.sampleLabels[l].str
                if hasSpans, keys.isSpan(key), str < spanStr, let v = HexID.span(p.string(str)) {
                    span = v; spanStr = str
                }
                if hasTraces, keys.isTrace(key), str < traceStr, let v = HexID.trace(p.string(str)) {
                    trace = v; traceStr = str
                }
            }
            x.spans.append(span)
            x.traceIDs.append(trace)
        }
    }

    /// One row for sample type `t` if any value is non-zero (§2.3 step 5).
    private mutating func appendRow(type t: Int, _ samples: ArraySlice<Int32>, _ p: PprofTables, _ x: inout IngestScratch,
                                    hasSpans: Bool, hasTraces: Bool, whole: Bool, id: UInt128, arena: SampleArena) -> Bool {
        guard let (start, n, total) = appendSamples(type: t, samples, p.typeCount, x, hasSpans: hasSpans, hasTraces: hasTraces,
                                                    arena: arena) else { return false }

        buildSeriesLabels(type: t, p, &x)
        let fp = x.seriesLabels.fingerprint()
        let series: UInt32
        if let existing = seriesByFingerprint[fp] {
            series = existing
            seriesMinTime[Int(series)] = min(seriesMinTime[Int(series)], p.timeNanos)
            seriesMaxTime[Int(series)] = max(seriesMaxTime[Int(series)], p.timeNanos)
        } else {
            series = UInt32(seriesFingerprint.count)
            seriesLabels.append(x.seriesLabels)
            seriesFingerprint.append(fp)
            seriesMinTime.append(p.timeNanos)
            seriesMaxTime.append(p.timeNanos)
            seriesByFingerprint[fp] = series
        }
        if annotationsOfPush < 0 { annotationsOfPush = annotations.append(x.annotations) }

        rowSeries.append(series)
        rowID.append(id)
        rowTotal.append(total)
        rowTime.append(p.timeNanos)
        rowDuration.append(p.durationNanos)
        rowDefaultSampleType.append(p.defaultSampleType)
        rowSampleStart.append(UInt32(start))
        rowSampleCount.append(UInt32(n))
        rowHasSpans.append(hasSpans)
        rowAnnotations.append(UInt32(annotationsOfPush))
        rowCommentStart.append(UInt32(comments.count))
        if whole {
            rowDropFrames.append(p.dropFrames)
            rowKeepFrames.append(p.keepFrames)
            comments.append(contentsOf: p.comments)
        } else {
            // The exporter re-indexed these into the sub-profile's string table (§2.2 e).
            rowDropFrames.append(exportIndex(p.dropFrames, x))
            rowKeepFrames.append(exportIndex(p.keepFrames, x))
            for c in p.comments { comments.append(exportIndex(c, x)) }
        }
        rowCommentCount.append(UInt32(comments.count) - rowCommentStart[rowCommentStart.count - 1])
        return true
    }

    /// The non-zero values of sample type `t` in entry order, with their stack, span and trace,
    /// as one run at the end of the shard's arena: (run start, length, sum of values), or nil
    /// when every value is zero. The shard admitted the push only with room for all of them.
    /// Read through pointers: the arrays' bounds checks were most of the loops' cost.
    private mutating func appendSamples(type t: Int, _ samples: ArraySlice<Int32>, _ types: Int, _ x: IngestScratch,
                                        hasSpans: Bool, hasTraces: Bool, arena: SampleArena) -> (Int, Int, UInt64)? {
        let run = samples.withUnsafeBufferPointer { samples in
            x.order.withUnsafeBufferPointer { order in
                x.split.values.withUnsafeBufferPointer { values in
                    Self.writeRun(type: t, types: types, order: order, samples: samples, values: values, x,
                                  hasSpans: hasSpans, hasTraces: hasTraces, arena: arena)
                }
            }
        }
        if let (_, n, _) = run { sampleCount += n }
        return run
    }

    private static func writeRun(type t: Int, types: Int, order: UnsafeBufferPointer<UInt64>, samples: UnsafeBufferPointer<Int32>,
                                 values: UnsafeBufferPointer<Int64>, _ x: IngestScratch,
                                 hasSpans: Bool, hasTraces: Bool, arena: SampleArena) -> (Int, Int, UInt64)? {
        @inline(__always) func value(_ key: UInt64) -> Int64 {
            values[Int(samples[Int(truncatingIfNeeded: key & 0xFFFF_FFFF)]) &* types &+ t]
        }
        // Room for every entry (the push was admitted with it), the unused tail given back:
        // one pass over the scattered values instead of a counting pass and a writing pass.
        let start = arena.allocate(order.count)
        let stacks = arena.stacks + start, out = arena.values + start
        let spans = arena.spans + start, traces = arena.traces + start
        var total: UInt64 = 0
        var at = 0
        x.stackIDs.withUnsafeBufferPointer { stackIDs in
            for key in order {
                let v = value(key)
                if v == 0 { continue }
                let k = Int(truncatingIfNeeded: key & 0xFFFF_FFFF)
                stacks[at] = stackIDs[k]
                out[at] = UInt64(bitPattern: v)
                spans[at] = hasSpans ? x.spans[k] : 0
                traces[at] = hasTraces ? x.traceIDs[k] : 0
                total &+= UInt64(bitPattern: v)
                at &+= 1
            }
        }
        arena.releaseLast(order.count - at)
        return at == 0 ? nil : (start, at, total)
    }

    private func exportIndex(_ i: Int64, _ x: IngestScratch) -> Int64 { i == 0 ? 0 : x.exportString[Int(i)] }

    /// `CreateProfileLabels(enforceOrder: true)` for sample type `t` (§2.4): derived labels
    /// set on a builder (an empty value deletes), then enforced order and `Unique`.
    private func buildSeriesLabels(type t: Int, _ p: PprofTables, _ x: inout IngestScratch) {
        x.seriesLabels.assign(x.baseLabels)
        let base = x.baseLabels
        base.withValue(of: LabelNames.serviceName) { service in
            if !service.isEmpty { x.seriesLabels.set(name: LabelNames.serviceNameDerived, value: service) }
        }
        let periodType = p.string(p.periodType?.type ?? 0)
        let periodUnit = p.string(p.periodType?.unit ?? 0)
        if p.periodType != nil {
            x.seriesLabels.set(name: LabelNames.periodType, value: periodType)
            x.seriesLabels.set(name: LabelNames.periodUnit, value: periodUnit)
        }
        let type = p.string(p.sampleTypes[t].type), unit = p.string(p.sampleTypes[t].unit)
        x.seriesLabels.set(name: LabelNames.type, value: type)
        x.seriesLabels.set(name: LabelNames.unit, value: unit)

        x.profileType.removeAll(keepingCapacity: true)
        base.withValue(of: LabelNames.name) { x.profileType.append(contentsOf: $0) }
        x.profileType.append(UInt8(ascii: ":"))
        x.profileType.append(contentsOf: type)
        x.profileType.append(UInt8(ascii: ":"))
        x.profileType.append(contentsOf: unit)
        x.profileType.append(UInt8(ascii: ":"))
        x.profileType.append(contentsOf: periodType)
        x.profileType.append(UInt8(ascii: ":"))
        x.profileType.append(contentsOf: periodUnit)
        x.profileType.withUnsafeBytes { x.seriesLabels.set(name: LabelNames.profileType, value: $0) }
        x.seriesLabels.sortEnforcedAndUnique()
    }
}
