import BinaryCoding
import ProfilesParquet
import SegmentObject
import SymbolDB
import TSDBIndex

/// One dataset's contents in the order a flush writes them (profiles-parquet.md §2.6,
/// tsdb-index.md §7, symdb.md §3): series sorted, rows by (SeriesIndex, TimeNanos, arrival),
/// symbols as partition 0. Built on the cold path from a `DatasetHead`.
struct FlushedDataset: SegmentDatasetSource {
    var tenant: ByteString
    var service: ByteString
    var minTimeNanos: Int64
    var maxTimeNanos: Int64
    var profileTypes: [ByteString]
    var hasUnsymbolizedProfiles: Bool
    var index: TSDBIndexContents
    var profiles: ProfileColumns
    var symbols: SymbolPartition

    var indexSeries: [IndexSeries] { index.series }

    func writeProfiles(into w: inout ByteWriter) { ProfilesParquetWriter.write(profiles, into: &w) }
    func writeIndex(into w: inout ByteWriter) { TSDBIndexWriter.write(index, into: &w) }
    func writeSymbols(into w: inout ByteWriter) { SymbolDBWriter.write(SymbolDBContents(partitions: [symbols]), into: &w) }
}

extension DatasetHead {
    /// nil when the head produced no rows (no dataset is written: §1 "Empty heads").
    func flushed() -> FlushedDataset? {
        guard rowCount > 0 else { return nil }
        // Series order: CompareLabelPairs over the enforced-order labels (§2.6 step 2).
        let order = (0 ..< seriesCount).sorted { seriesLabels.compare($0, $1) < 0 }
        var position = [UInt32](repeating: 0, count: seriesCount)
        for (i, s) in order.enumerated() { position[s] = UInt32(i) }

        var series: [IndexSeries] = []
        series.reserveCapacity(seriesCount)
        var profileTypes = Set<ByteString>()
        for (i, s) in order.enumerated() {
            var labels: [SeriesLabel] = []
            for p in seriesLabels.pairRange(s) {
                labels.append(SeriesLabel(name: seriesLabels.name(p), value: seriesLabels.value(p)))
            }
            // `__profile_type__` is always set and sorts first (§2.4).
            precondition(labels.first?.name == "__profile_type__", "series without __profile_type__ first")
            profileTypes.insert(labels[0].value)
            series.append(IndexSeries(labels: labels, fingerprint: seriesFingerprint[s], chunks: [
                ChunkMeta(minTime: seriesMinTime[s], maxTime: seriesMaxTime[s], seriesIndex: UInt32(i)),
            ]))
        }

        // Rows: (SeriesIndex, TimeNanos) ascending, equal times in arrival order (§2.6 steps 1, 4).
        let rows = (0 ..< rowCount).sorted { a, b in
            let (pa, pb) = (position[Int(rowSeries[a])], position[Int(rowSeries[b])])
            if pa != pb { return pa < pb }
            if rowTime[a] != rowTime[b] { return rowTime[a] < rowTime[b] }
            return a < b
        }
        return FlushedDataset(
            tenant: tenant, service: service, minTimeNanos: minTimeNanos, maxTimeNanos: maxTimeNanos,
            profileTypes: profileTypes.sorted(), hasUnsymbolizedProfiles: symbols.hasUnsymbolizedLocations,
            index: TSDBIndexContents(series: series), profiles: profileColumns(rows, position),
            symbols: symbols.partition())
    }

    private func profileColumns(_ rows: [Int], _ position: [UInt32]) -> ProfileColumns {
        var c = ProfileColumns()
        c.reserve(rows: rows.count, samples: sampleCount)
        for r in rows {
            c.ids.append(rowID[r])
            c.seriesIndex.append(position[Int(rowSeries[r])])
            c.stacktracePartition.append(0)
            c.totalValue.append(Int64(bitPattern: rowTotal[r]))
            let samples = Int(rowSampleStart[r]) ..< Int(rowSampleStart[r] + rowSampleCount[r])
            for s in samples {
                c.sampleStacktraceIDs.append(UInt64(sampleStack[s]))
                c.sampleValues.append(Int64(bitPattern: sampleValue[s]))
                c.sampleSpanIDs.append(sampleSpan[s])
                c.sampleTraceIDs.append(sampleTrace[s])
            }
            c.sampleOffsets.append(c.sampleStacktraceIDs.count)
            c.rowHasSpanIDs.append(rowHasSpans[r])
            c.dropFrames.append(rowDropFrames[r])
            c.keepFrames.append(rowKeepFrames[r])
            c.timeNanos.append(rowTime[r])
            c.durationNanos.append(rowDuration[r])
            // §2.5: `Period` is never copied.
            c.period.append(0)
            c.comments.append(contentsOf: comments[Int(rowCommentStart[r]) ..< Int(rowCommentStart[r] + rowCommentCount[r])])
            c.commentOffsets.append(c.comments.count)
            c.defaultSampleType.append(rowDefaultSampleType[r])
            let a = Int(rowAnnotations[r])
            for p in annotations.pairRange(a) {
                c.annotationKeys.append(annotations.name(p))
                c.annotationValues.append(annotations.value(p))
            }
            c.annotationOffsets.append(c.annotationKeys.count)
        }
        precondition(c.isConsistent, "profile columns out of shape")
        return c
    }
}

extension SymbolPartitionBuilder {
    /// Partition 0 as the symdb writer takes it (the head's single partition, symdb.md §3).
    func partition() -> SymbolPartition {
        var strs: [ByteString] = []
        strs.reserveCapacity(strings.count)
        for i in 0 ..< strings.count { strs.append(strings.string(i)) }
        let maps = mappings.map {
            SymbolMapping(memoryStart: $0.memoryStart, memoryLimit: $0.memoryLimit, fileOffset: $0.fileOffset,
                          filename: $0.filename, buildID: $0.buildID, hasFunctions: $0.hasFunctions,
                          hasFilenames: $0.hasFilenames, hasLineNumbers: $0.hasLineNumbers, hasInlineFrames: $0.hasInlineFrames)
        }
        let funcs = functions.map {
            SymbolFunction(name: $0.name, systemName: $0.systemName, filename: $0.filename, startLine: $0.startLine)
        }
        var locs: [SymbolLocation] = []
        locs.reserveCapacity(locationMapping.count)
        for l in 0 ..< locationMapping.count {
            let start = Int(locationLineStart[l])
            let lines = (start ..< start + Int(locationLineCount[l])).map { SymbolLine(functionID: lineFunction[$0], line: lineNumber[$0]) }
            locs.append(SymbolLocation(mappingID: locationMapping[l], address: locationAddress[l], isFolded: locationFolded[l], lines: lines))
        }
        return SymbolPartition(key: 0, strings: strs, mappings: maps, functions: funcs, locations: locs, stackTree: stackTree)
    }
}
