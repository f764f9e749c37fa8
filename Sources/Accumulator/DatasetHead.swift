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
    private(set) var seriesLabels: LabelSetArena
    private(set) var seriesFingerprint: ArenaColumn<UInt64>
    private(set) var seriesMinTime: ArenaColumn<Int64>
    private(set) var seriesMaxTime: ArenaColumn<Int64>
    /// Fingerprint → series (the fingerprint, an XXH64, is its own hash).
    private var seriesByFingerprint: SlotIndex

    /// Rows, in arrival order: a record each (a few per push, read once by the flush, so one
    /// record costs nothing on the hot path and keeps the fields together).
    private(set) var rows: ArenaColumn<Row>

    /// Samples of this dataset's rows; they live in the shard's `SampleArena`, one run per row
    /// (`Row.sampleStart` is the run's arena position).
    private(set) var sampleCount = 0
    /// Those of them in rows with span or trace ids (the rest leave the id columns unwritten).
    private(set) var sampleIDCount = 0
    private(set) var comments: ArenaColumn<Int64>
    /// One set per push that produced rows here (shared by that push's rows).
    private(set) var annotations: LabelSetArena
    private var annotationsOfPush: Int = -1

    private(set) var minTimeNanos = Int64.max
    /// From 0, as upstream's head: a head of negative times only reports 0.
    private(set) var maxTimeNanos: Int64 = 0
    /// Pushes routed here since the last reset, with or without rows (segment-object.md §10).
    private(set) var pushCount = 0
    /// What the current push added (upstream's head metrics); reset by `beginPush`.
    private(set) var pushStats = PushIngestStats()

    /// Every column is a block of the shard's `arena` (none is taken before the first append).
    init(tenant: ByteString, service: ByteString, arena: ColumnArena) {
        self.tenant = tenant
        self.service = service
        symbols = SymbolPartitionBuilder(in: arena)
        seriesLabels = LabelSetArena(in: arena)
        seriesFingerprint = ArenaColumn(in: arena)
        seriesMinTime = ArenaColumn(in: arena)
        seriesMaxTime = ArenaColumn(in: arena)
        seriesByFingerprint = SlotIndex(in: arena)
        rows = ArenaColumn(in: arena)
        comments = ArenaColumn(in: arena)
        annotations = LabelSetArena(in: arena)
    }

    var rowCount: Int { rows.count }
    var seriesCount: Int { seriesFingerprint.count }

    /// Bytes of accumulated data: the columns' elements (not their blocks) and the samples.
    var accumulatedBytes: Int {
        symbols.accumulatedBytes + seriesLabels.byteCount + seriesFingerprint.byteCount + seriesMinTime.byteCount
            + seriesMaxTime.byteCount + seriesByFingerprint.byteCount
            + rows.byteCount + sampleCount * SampleArena.valueBytesPerSample + sampleIDCount * SampleArena.idBytesPerSample
            + comments.byteCount + annotations.byteCount
    }

    /// Bytes of the columns' blocks: what `reset` keeps. Samples are the shard arena's
    /// (`SampleArena.committedBytes`).
    var reservedBytes: Int {
        symbols.reservedBytes + seriesLabels.reservedBytes + annotations.reservedBytes + comments.reservedBytes
            + seriesFingerprint.reservedBytes + seriesMinTime.reservedBytes + seriesMaxTime.reservedBytes
            + seriesByFingerprint.reservedBytes
            + rows.reservedBytes
    }

    /// An upper bound of the bytes one push may take from the arena for this head's series,
    /// rows, comments and annotations (symbols: `SymbolPartitionBuilder.bytesToIngest`):
    /// `rows` rows at most (groups × sample types), each a new series whose label set holds at
    /// most `seriesPairs` pairs and `seriesLabelBytes` bytes in all.
    func bytesToIngest(rows: Int, seriesPairs: Int, seriesLabelBytes: Int, commentsPerRow: Int,
                       annotations push: LabelBuilder) -> Int {
        var n = seriesLabels.bytesToAppend(sets: rows, pairCount: seriesPairs, byteCount: seriesLabelBytes)
        n += seriesFingerprint.bytesToReserve(additional: rows) + seriesMinTime.bytesToReserve(additional: rows)
            + seriesMaxTime.bytesToReserve(additional: rows) + seriesByFingerprint.bytesToInsert(rows)
        n += self.rows.bytesToReserve(additional: rows)
        n += comments.bytesToReserve(additional: rows * commentsPerRow)
        n += annotations.bytesToAppend(push)
        return n
    }

    mutating func reset() {
        symbols.reset()
        seriesLabels.reset()
        seriesFingerprint.reset()
        seriesMinTime.reset()
        seriesMaxTime.reset()
        seriesByFingerprint.reset()
        rows.reset()
        sampleCount = 0
        sampleIDCount = 0
        comments.reset()
        annotations.reset()
        annotationsOfPush = -1
        minTimeNanos = .max
        maxTimeNanos = 0
        pushCount = 0
    }

    /// Called once per push routed to this dataset, before its groups.
    mutating func beginPush() {
        pushCount += 1
        annotationsOfPush = -1
        pushStats = PushIngestStats()
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

        Self.orderEntriesByStack(samples.count, &x)

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

    /// `x.order`: the group's `n` entries sorted by stack-trace id, ties in sample order (see
    /// README: upstream's unstable sort may order ties differently, values are unaffected).
    private static func orderEntriesByStack(_ n: Int, _ x: inout IngestScratch) {
        x.order.reset(count: n)
        let order = x.order.mutableElements, ids = x.stackIDs.elements
        for k in order.indices { order[k] = UInt64(ids[k]) << 32 | UInt64(k) }
        StableSort.sortByHighWord(&x.order, buffer: &x.orderBuffer, counts: &x.radixCounts)
    }

    /// The tree reads each sample's frames in place through the location map (no per-stack copy).
    private mutating func insertStacks(_ samples: ArraySlice<Int32>, _ p: PprofTables, _ x: inout IngestScratch) {
        x.stackIDs.reset(count: samples.count)
        let map = x.locationMap.elements, ids = x.stackIDs.mutableElements
        samples.withUnsafeBufferPointer { samples in
            symbols.insertStacks(samples: samples, starts: p.sampleLocationStarts, frames: p.sampleLocationIndices,
                                 map: map, ids: ids)
        }
    }

    /// Spans/trace ids are on when the (sub-)profile's string table holds "span_id" /
    /// "trace_id" (§2.5). A split group's exported table holds them when one of its samples
    /// carries such a label (the renamed "span_id" may lie past the source table) or when an
    /// exported symbol string is spelled so.
    private func spanAndTracePresence(whole: Bool, _ samples: ArraySlice<Int32>, _ p: PprofTables,
                                      _ keys: SpecialLabelKeys, _ x: borrowing IngestScratch) -> (Bool, Bool) {
        if whole { return (keys.hasSpanString, keys.hasTraceString) }
        var spans = x.exportHasSpanString, traces = x.exportHasTraceString
        guard keys.mayHaveIDLabels else { return (spans, traces) }
        for s in samples {
            for l in Int(p.sampleLabelStarts[Int(s)]) ..< Int(p.sampleLabelStarts[Int(s) + 1]) {
                if keys.isSpan(p.sampleLabels[l].key) { spans = true }
                if keys.isTrace(p.sampleLabels[l].key) { traces = true }
            }
        }
        return (spans, traces)
    }

    /// Per sample: the span = the first valid `span_id` label (16 hex chars, read
    /// little-endian) in the order grouping leaves a sample's hidden labels, descending
    /// (key, str) (`LabelsWithout` reverses them): so the one with the highest value index;
    /// the trace likewise (32 hex chars); invalid or missing ⇒ 0. None are collected when
    /// both are off.
    private func collectSpansAndTraces(_ samples: ArraySlice<Int32>, _ p: PprofTables, _ keys: SpecialLabelKeys,
                                       hasSpans: Bool, hasTraces: Bool, _ x: inout IngestScratch) {
        let n = hasSpans || hasTraces ? samples.count : 0
        x.spans.refill(count: n, with: 0)
        x.traceIDs.refill(count: n, with: 0)
        guard n > 0 else { return }
        let spans = x.spans.mutableElements, traces = x.traceIDs.mutableElements
        let starts = p.sampleLabelStarts, labels = p.sampleLabels
        for (k, s) in samples.enumerated() {
            var spanStr = Int64.min, traceStr = Int64.min
            for l in Int(starts[Int(s)]) ..< Int(starts[Int(s) + 1]) {
                let key = labels[l].key, str = labels[l].str
                if hasSpans, keys.isSpan(key), str > spanStr, let v = HexID.span(p.string(str)) {
                    spans[k] = v; spanStr = str
                }
                if hasTraces, keys.isTrace(key), str > traceStr, let v = HexID.trace(p.string(str)) {
                    traces[k] = v; traceStr = str
                }
            }
        }
    }

    /// One row for sample type `t` if any value is non-zero (§2.3 step 5).
    private mutating func appendRow(type t: Int, _ samples: ArraySlice<Int32>, _ p: PprofTables, _ x: inout IngestScratch,
                                    hasSpans: Bool, hasTraces: Bool, whole: Bool, id: UInt128, arena: SampleArena) -> Bool {
        guard let (start, n, total) = appendSamples(type: t, samples, p, x, hasSpans: hasSpans, hasTraces: hasTraces,
                                                    arena: arena) else { return false }

        buildSeriesLabels(type: t, p, &x)
        let fp = x.seriesLabels.fingerprint()
        let series: UInt32
        if let existing = findSeries(fingerprint: fp) {
            series = existing
            seriesMinTime[Int(series)] = min(seriesMinTime[Int(series)], p.timeNanos)
            seriesMaxTime[Int(series)] = max(seriesMaxTime[Int(series)], p.timeNanos)
        } else {
            series = UInt32(seriesFingerprint.count)
            pushStats.seriesCreated += 1
            seriesLabels.append(x.seriesLabels)
            seriesFingerprint.append(fp)
            seriesMinTime.append(p.timeNanos)
            seriesMaxTime.append(p.timeNanos)
            var slot = seriesByFingerprint.firstSlot(fp)
            while seriesByFingerprint.entry(at: slot) >= 0 { slot = seriesByFingerprint.nextSlot(slot) }
            seriesByFingerprint.insert(Int(series), hash: fp, at: slot)
        }
        if annotationsOfPush < 0 { annotationsOfPush = annotations.append(x.annotations) }

        let commentStart = UInt32(comments.count)
        var dropFrames = p.dropFrames, keepFrames = p.keepFrames
        if whole {
            comments.append(contentsOf: p.comments)
        } else {
            // The exporter re-indexed these into the sub-profile's string table (§2.2 e).
            dropFrames = exportIndex(dropFrames, x)
            keepFrames = exportIndex(keepFrames, x)
            for c in p.comments { comments.append(exportIndex(c, x)) }
        }
        rows.append(Row(series: series, id: id, total: total, time: p.timeNanos, duration: p.durationNanos,
                        dropFrames: dropFrames, keepFrames: keepFrames, defaultSampleType: p.defaultSampleType,
                        sampleStart: UInt32(start), sampleCount: UInt32(n), commentStart: commentStart,
                        commentCount: UInt32(comments.count) - commentStart, annotations: UInt32(annotationsOfPush),
                        hasSpans: hasSpans, hasTraces: hasTraces))
        pushStats.profilesCreated += 1
        pushStats.sampleValuesIngested += n
        pushStats.sampleValuesReceived += samples.count
        return true
    }

    /// The non-zero values of sample type `t` in entry order, with their stack, span and trace,
    /// as one run at the end of the shard's arena: (run start, length, sum of values), or nil
    /// when every value is zero. The shard admitted the push only with room for all of them.
    /// Read through pointers: the arrays' bounds checks were most of the loops' cost.
    private mutating func appendSamples(type t: Int, _ samples: ArraySlice<Int32>, _ p: PprofTables, _ x: borrowing IngestScratch,
                                        hasSpans: Bool, hasTraces: Bool, arena: SampleArena) -> (Int, Int, UInt64)? {
        let order = x.order.elements
        let run = samples.withUnsafeBufferPointer { samples in
            Self.writeRun(type: t, types: p.typeCount, order: order, samples: samples, values: x.split.values(of: p), x,
                          hasSpans: hasSpans, hasTraces: hasTraces, arena: arena)
        }
        if let (start, n, _) = run {
            sampleCount += n
            if hasSpans || hasTraces {
                sampleIDCount += n
                arena.wroteIDs(upTo: start + n)
            }
        }
        return run
    }

    private static func writeRun(type t: Int, types: Int, order: UnsafeBufferPointer<UInt64>, samples: UnsafeBufferPointer<Int32>,
                                 values: UnsafeBufferPointer<Int64>, _ x: borrowing IngestScratch,
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
        let spanOf = x.spans.elements, traceOf = x.traceIDs.elements
        // One loop per case, the test out of it: spans and trace ids were collected for
        // every entry when either is on (0 where absent), else none were, and the run's span
        // and trace columns stay unwritten (`Row.hasSampleIDs`): 24 of a sample's 36 bytes.
        @inline(__always) func copy(withIDs: Bool) {
            for key in order {
                let v = value(key)
                if v == 0 { continue }
                let k = Int(truncatingIfNeeded: key & 0xFFFF_FFFF)
                // The entry's key carries its stack id (`orderEntriesByStack`): no gather.
                stacks[at] = UInt32(truncatingIfNeeded: key &>> 32)
                out[at] = UInt64(bitPattern: v)
                if withIDs {
                    spans[at] = spanOf[k]
                    traces[at] = traceOf[k]
                }
                total &+= UInt64(bitPattern: v)
                at &+= 1
            }
        }
        if hasSpans || hasTraces { copy(withIDs: true) } else { copy(withIDs: false) }
        arena.releaseLast(order.count - at)
        return at == 0 ? nil : (start, at, total)
    }

    /// The series with fingerprint `fp`, if any (series are keyed by fingerprint, as upstream's
    /// head keys them).
    private func findSeries(fingerprint fp: UInt64) -> UInt32? {
        var slot = seriesByFingerprint.firstSlot(fp)
        while true {
            let e = seriesByFingerprint.entry(at: slot)
            if e < 0 { return nil }
            if seriesByFingerprint.mayMatch(fp, at: slot), seriesFingerprint[e] == fp { return UInt32(e) }
            slot = seriesByFingerprint.nextSlot(slot)
        }
    }

    private func exportIndex(_ i: Int64, _ x: borrowing IngestScratch) -> Int64 { i == 0 ? 0 : x.exportString[Int(i)] }

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

/// One profile row of a dataset (profiles-parquet.md §2.3): its series, identity and times, and
/// where its samples, comments and annotations are.
struct Row {
    var series: UInt32
    var id: UInt128
    var total: UInt64
    var time: Int64
    var duration: Int64
    var dropFrames: Int64
    var keepFrames: Int64
    var defaultSampleType: Int64
    /// The run of its samples in the shard's `SampleArena`.
    var sampleStart: UInt32
    var sampleCount: UInt32
    /// Its comments in the dataset's `comments`.
    var commentStart: UInt32
    var commentCount: UInt32
    /// Its push's set in the dataset's `annotations`.
    var annotations: UInt32
    var hasSpans: Bool
    var hasTraces: Bool
    /// Whether its run holds span and trace ids in the arena (else those columns of the run
    /// were never written: they read as 0).
    var hasSampleIDs: Bool { hasSpans || hasTraces }
}
