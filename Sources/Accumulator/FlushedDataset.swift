import BinaryCoding
import ProfilesParquet
import SegmentObject
import SymbolDB
import TSDBIndex

/// One dataset's contents in the order a flush writes them (profiles-parquet.md §2.6,
/// tsdb-index.md §7, symdb.md §3): series sorted, rows by (SeriesIndex, TimeNanos, arrival),
/// symbols as partition 0. Built on the cold path from a `DatasetHead`.
///
/// The profile and symbol columns are built when their section is written, not before: the
/// assembler writes one dataset after another, so only one dataset's row-order copies (8 bytes
/// a sample per column) live at a time instead of every dataset's of the shard at once. The
/// head and the sample arena are read then, so the shard must not change before the object is
/// complete (its flush resets it only after assembling).
struct FlushedDataset: SegmentDatasetSource {
    var tenant: ByteString
    var service: ByteString
    var minTimeNanos: Int64
    var maxTimeNanos: Int64
    var profileTypes: [ByteString]
    var hasUnsymbolizedProfiles: Bool
    /// The series in file order, each with one chunk (the series' min and max row time).
    let indexSeriesColumns: IndexSeriesColumns
    let head: DatasetHead
    /// Head row indices in file row order.
    let rowOrder: [Int]
    /// Per head series, its position in the file's series order (its `SeriesIndex`).
    let seriesPosition: [UInt32]
    let arena: SampleArena
    /// The generation of the shard's column arena when this was made: the head's columns are
    /// blocks of it, handed to others once it is reset.
    let generation: Int

    func writeProfiles(into w: inout ByteWriter) {
        checkArena()
        ProfilesParquetWriter.write(head.profileColumns(rowOrder, seriesPosition, arena), into: &w)
    }

    func writeIndex(into w: inout ByteWriter) {
        let bounds = indexSeriesColumns.timeBounds
        TSDBIndexWriter.write(indexSeriesColumns, from: bounds.from, through: bounds.through, into: &w)
    }

    func writeSymbols(into w: inout ByteWriter) {
        checkArena()
        SymbolDBWriter.write([head.symbols.partitionColumns()], into: &w)
    }

    private func checkArena() {
        precondition(head.rows.arena.generation == generation, "a flushed dataset written after its shard was reset")
    }
}

extension DatasetHead {
    /// nil when the head produced no rows (no dataset is written: §1 "Empty heads").
    /// `arena` is the shard's, which holds this head's samples.
    func flushed(arena: SampleArena) -> FlushedDataset? {
        guard rowCount > 0 else { return nil }
        // Series order: CompareLabelPairs over the enforced-order labels (§2.6 step 2).
        let order = (0 ..< seriesCount).sorted { seriesLabels.compare($0, $1) < 0 }
        var position = [UInt32](repeating: 0, count: seriesCount)
        for (i, s) in order.enumerated() { position[s] = UInt32(i) }

        let series = indexSeriesColumns(order)

        // Rows: (SeriesIndex, TimeNanos) ascending, equal times in arrival order (§2.6 steps 1, 4).
        let rows = (0 ..< rowCount).sorted { a, b in
            let (ra, rb) = (self.rows[a], self.rows[b])
            let (pa, pb) = (position[Int(ra.series)], position[Int(rb.series)])
            if pa != pb { return pa < pb }
            if ra.time != rb.time { return ra.time < rb.time }
            return a < b
        }
        return FlushedDataset(
            tenant: tenant, service: service, minTimeNanos: minTimeNanos, maxTimeNanos: maxTimeNanos,
            profileTypes: Self.profileTypes(series), hasUnsymbolizedProfiles: symbols.hasUnsymbolizedLocations,
            indexSeriesColumns: series, head: self, rowOrder: rows, seriesPosition: position,
            arena: arena, generation: self.rows.arena.generation)
    }

    /// The series in `order` as the index takes them: the label bytes one copy, each series'
    /// label ranges (`LabelRef` and `IndexSeriesColumns.Label` are the same ranges of them).
    private func indexSeriesColumns(_ order: [Int]) -> IndexSeriesColumns {
        var c = IndexSeriesColumns()
        c.bytes = Array(seriesLabels.bytes.buffer)
        c.labels.reserveCapacity(seriesLabels.pairs.count)
        c.chunks.reserveCapacity(order.count)
        for (i, s) in order.enumerated() {
            for p in seriesLabels.pairRange(s) {
                let l = seriesLabels.pairs[p]
                c.labels.append(.init(nameStart: l.nameStart, nameCount: l.nameCount, valueStart: l.valueStart, valueCount: l.valueCount))
            }
            c.chunks.append(ChunkMeta(minTime: seriesMinTime[s], maxTime: seriesMaxTime[s], seriesIndex: UInt32(i)))
            c.endSeries(fingerprint: seriesFingerprint[s])
        }
        return c
    }

    /// The distinct `__profile_type__` values, byte-wise sorted. Every series starts with that
    /// label (§2.4: always set, sorts first), so series in file order are grouped by it, in order.
    private static func profileTypes(_ series: IndexSeriesColumns) -> [ByteString] {
        var types: [ByteString] = []
        var previous: IndexSeriesColumns.Label?
        for i in 0 ..< series.count {
            let first = series.labels[series.labelRange(i).lowerBound]
            let isProfileType = series.name(first).withUnsafeBytes { equalsStatic($0, LabelNames.profileType) }
            precondition(isProfileType, "series without __profile_type__ first")
            if let p = previous, series.value(p).elementsEqual(series.value(first)) { continue }
            types.append(ByteString(Array(series.value(first))))
            previous = first
        }
        return types
    }

    fileprivate func profileColumns(_ rows: [Int], _ position: [UInt32], _ arena: SampleArena) -> ProfileColumns {
        var c = ProfileColumns()
        c.reserve(rows: rows.count, samples: 0)
        var samples = 0
        for r in rows {
            let row = self.rows[r]
            c.ids.append(row.id)
            c.seriesIndex.append(position[Int(row.series)])
            c.stacktracePartition.append(0)
            c.totalValue.append(Int64(bitPattern: row.total))
            samples += Int(row.sampleCount)
            c.sampleOffsets.append(samples)
            c.rowHasSpanIDs.append(row.hasSpans)
            c.dropFrames.append(row.dropFrames)
            c.keepFrames.append(row.keepFrames)
            c.timeNanos.append(row.time)
            c.durationNanos.append(row.duration)
            // §2.5: `Period` is never copied.
            c.period.append(0)
            c.comments.append(contentsOf: comments.buffer[Int(row.commentStart) ..< Int(row.commentStart + row.commentCount)])
            c.commentOffsets.append(c.comments.count)
            c.defaultSampleType.append(row.defaultSampleType)
            let a = Int(row.annotations)
            for p in annotations.pairRange(a) {
                c.annotationKeys.append(annotations.name(p))
                c.annotationValues.append(annotations.value(p))
            }
            c.annotationOffsets.append(c.annotationKeys.count)
        }
        c.sampleStacktraceIDs = stackIDsInRowOrder(arena.stacks, rows, samples)
        c.sampleValues = samplesInRowOrder(arena.values, rows, samples, as: Int64.self)
        // Rows without sample ids never wrote these columns (a row with one kind of id holds
        // zeros for the other). A column no row has ids of goes to the writer empty: 8 and 16
        // bytes a sample neither copied nor scanned (a service traces its profiles or does not).
        if rows.contains(where: { self.rows[$0].hasSpans }) {
            c.sampleSpanIDs = samplesInRowOrder(arena.spans, rows, samples, as: UInt64.self, onlyWithIDs: true)
        }
        if rows.contains(where: { self.rows[$0].hasTraces }) {
            c.sampleTraceIDs = samplesInRowOrder(arena.traces, rows, samples, as: UInt128.self, onlyWithIDs: true)
        }
        precondition(c.isConsistent, "profile columns out of shape")
        return c
    }

    /// A per-sample arena column in file row order: a row's samples are one run in the arena, so
    /// each row is one copy (`Target` has `Source`'s layout: a bit cast, as in `Int64(bitPattern:)`).
    /// `onlyWithIDs`: the span or trace column, which rows without sample ids never wrote (zeros).
    private func samplesInRowOrder<Source: BitwiseCopyable, Target: BitwiseCopyable>(
        _ source: UnsafeMutablePointer<Source>, _ rows: [Int], _ count: Int, as _: Target.Type, onlyWithIDs: Bool = false
    ) -> [Target] {
        precondition(MemoryLayout<Source>.stride == MemoryLayout<Target>.stride, "not a bit cast")
        guard count > 0 else { return [] }
        return [Target](unsafeUninitializedCapacity: count) { out, written in
            let target = UnsafeMutableRawPointer(out.baseAddress!)
            let stride = MemoryLayout<Source>.stride
            for r in rows {
                let row = self.rows[r]
                let bytes = Int(row.sampleCount) * stride
                if onlyWithIDs && !row.hasSampleIDs {
                    target.advanced(by: written * stride).initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
                } else {
                    target.advanced(by: written * stride).copyMemory(from: source + Int(row.sampleStart), byteCount: bytes)
                }
                written += Int(row.sampleCount)
            }
        }
    }

    /// Stack ids widened to the column's UInt64, in file row order.
    private func stackIDsInRowOrder(_ stacks: UnsafeMutablePointer<UInt32>, _ rows: [Int], _ count: Int) -> [UInt64] {
        guard count > 0 else { return [] }
        return [UInt64](unsafeUninitializedCapacity: count) { out, written in
            for r in rows {
                let row = self.rows[r], start = Int(row.sampleStart)
                for k in 0 ..< Int(row.sampleCount) { out[written + k] = UInt64(stacks[start + k]) }
                written += Int(row.sampleCount)
            }
        }
    }
}

extension SymbolPartitionBuilder {
    /// Partition 0 as the symdb writer takes it (the head's single partition, symdb.md §3): the
    /// builder's columns, one copy each into the writer's arrays (locations and lines split
    /// into its columns).
    func partitionColumns() -> SymbolPartitionColumns {
        SymbolPartitionColumns(
            key: 0, stringBytes: strings.bytes, stringEnds: strings.endOffsets,
            mappings: mappings.buffer.map {
                SymbolMapping(memoryStart: $0.memoryStart, memoryLimit: $0.memoryLimit, fileOffset: $0.fileOffset,
                              filename: $0.filename, buildID: $0.buildID, hasFunctions: $0.hasFunctions,
                              hasFilenames: $0.hasFilenames, hasLineNumbers: $0.hasLineNumbers, hasInlineFrames: $0.hasInlineFrames)
            },
            functions: functions.buffer.map {
                SymbolFunction(name: $0.name, systemName: $0.systemName, filename: $0.filename, startLine: $0.startLine)
            },
            locationMapping: locationMapping, locationAddress: locationAddress, locationFolded: locationFolded,
            locationLineStart: locationLineStart, locationLineCount: locationLineCount,
            lineFunction: lineFunction, lineNumber: lineNumber,
            stackParents: Array(stackTree.parents), stackLocations: Array(stackTree.locations),
            stackChunks: [SymbolStackChunk(nodeCount: UInt32(stackTree.nodeCount), stacktraces: stackTree.stacktraceCount)],
            maxNodesPerChunk: SymbolPartition.unchunkedMaxNodes)
    }
}
