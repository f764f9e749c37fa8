import BinaryCoding

/// Byte-exact writer of Pyroscope's `index.tsdb` (tsdb-index.md §4).
public enum TSDBIndexWriter {
    /// Appends the index of `contents` to `w`: series in the given order (refs 0, 1, 2…),
    /// labels in their stored order, `contents.from`/`through` in the TOC. Every offset inside
    /// is relative to `w.count` at entry.
    public static func write(_ contents: TSDBIndexContents, into w: inout ByteWriter) {
        write(IndexSeriesColumns(contents.series), from: contents.from, through: contents.through, into: &w)
    }

    /// The same from series as columns (what a flush hands over).
    public static func write(_ series: IndexSeriesColumns, from: Int64, through: Int64, into w: inout ByteWriter) {
        IndexEncoder.write([IndexSeriesGroup(series: series, datasetPosition: nil)], from: from, through: through, into: &w)
    }
}

/// Series written one after another. A tenant dataset index writes each series with a single
/// chunk `(0, 0, 0, datasetPosition, 0)` in place of its own chunks (§8).
struct IndexSeriesGroup {
    var series: IndexSeriesColumns
    var datasetPosition: UInt32?
}

/// One (name, value) occurrence: the unit postings and label indices are built from.
struct LabelOccurrence: Comparable {
    /// `nameRef << 32 | valueRef`: symbol refs are in byte order, so this sorts like the pair.
    var pair: UInt64
    var ordinal: UInt32

    var nameRef: UInt32 { UInt32(truncatingIfNeeded: pair >> 32) }
    var valueRef: UInt32 { UInt32(truncatingIfNeeded: pair) }

    static func < (a: LabelOccurrence, b: LabelOccurrence) -> Bool {
        a.pair != b.pair ? a.pair < b.pair : a.ordinal < b.ordinal
    }
}

enum IndexEncoder {
    /// Writes the index; returns false, before writing the tables, when they would take it past
    /// `sizeLimit` bytes. The limit serves the reader's re-derivation check: the two tables repeat label
    /// strings once per pair, so hostile series could otherwise imply an index far larger than
    /// the bytes that declared them.
    @discardableResult
    static func write(
        _ groups: [IndexSeriesGroup], from: Int64, through: Int64, into w: inout ByteWriter, sizeLimit: Int = .max
    ) -> Bool {
        let base = w.count
        let symbols = IndexSymbols(groups)
        var toc = TSDBTOC(from: from, through: through)

        w.appendBE32(TSDBIndexLayout.magic)
        w.append(TSDBIndexLayout.version)
        toc.symbols = w.count - base
        writeSymbols(symbols, into: &w)
        toc.series = w.count - base
        let seriesRefs = writeSeries(groups, symbols.labelRefs, base: base, into: &w)
        toc.labelIndices = w.count - base

        let occurrences = sortedOccurrences(groups, symbols.labelRefs)
        let labelIndexOffsets = writeLabelIndices(occurrences, symbols, base: base, into: &w)
        toc.postings = w.count - base
        let postingsOffsets = writePostings(occurrences, seriesRefs, base: base, into: &w)
        // Everything so far is linear in the series bytes; the tables are not.
        let tablesSize = tablesSizeBound(labelIndexOffsets, postingsOffsets, symbols)
        guard w.count - base <= sizeLimit - tablesSize else { return false }
        toc.labelIndicesTable = w.count - base
        writeLabelIndicesTable(labelIndexOffsets, symbols, into: &w)
        toc.postingsTable = w.count - base
        writePostingsTable(postingsOffsets, symbols, into: &w)
        toc.fingerprintOffsets = w.count - base
        writeFingerprintOffsets(groups, seriesRefs, into: &w)
        writeTOC(toc, into: &w)
        return true
    }

    /// At least the bytes the label-indices and postings offset tables take (their strings).
    private static func tablesSizeBound(
        _ labelIndexOffsets: [(nameRef: UInt32, offset: Int)], _ postingsOffsets: [(pair: UInt64, offset: Int)],
        _ symbols: IndexSymbols
    ) -> Int {
        var size = 0
        for entry in labelIndexOffsets { size += symbols.symbol(entry.nameRef).count }
        for entry in postingsOffsets.dropFirst() {
            size += symbols.symbol(UInt32(entry.pair >> 32)).count + symbols.symbol(UInt32(truncatingIfNeeded: entry.pair)).count
        }
        return size
    }

    // §3.1
    private static func writeSymbols(_ symbols: IndexSymbols, into w: inout ByteWriter) {
        let frame = w.beginFramed()
        w.appendBE32(UInt32(symbols.count))
        for ref in 0 ..< UInt32(symbols.count) { w.appendUvarintString(symbols.symbol(ref)) }
        w.endFramed(frame)
    }

    // §3.2; returns each series' ref (16-byte units from the index start).
    private static func writeSeries(
        _ groups: [IndexSeriesGroup], _ labelRefs: [UInt32], base: Int, into w: inout ByteWriter
    ) -> [UInt32] {
        var seriesRefs: [UInt32] = []
        seriesRefs.reserveCapacity(groups.reduce(0) { $0 + $1.series.count })
        var refAt = 0
        for group in groups {
            let s = group.series
            for i in 0 ..< s.count {
                w.pad(toMultipleOf: TSDBIndexLayout.seriesAlignment, from: base)
                let ref = (w.count - base) / TSDBIndexLayout.seriesAlignment
                precondition(ref <= Int(UInt32.max), "index past 64 GiB: series ref overflows uint32")
                seriesRefs.append(UInt32(ref))
                let labelCount = s.labelRange(i).count
                if let position = group.datasetPosition {
                    let chunk = ChunkMeta(minTime: 0, maxTime: 0, seriesIndex: position)
                    writeSeriesEntry(s.fingerprints[i], labelRefs, refAt, labelCount, CollectionOfOne(chunk), into: &w)
                } else {
                    writeSeriesEntry(s.fingerprints[i], labelRefs, refAt, labelCount, s.chunks[s.chunkRange(i)], into: &w)
                }
                refAt += 2 * labelCount
            }
        }
        return seriesRefs
    }

    private static func writeSeriesEntry<Chunks: Collection<ChunkMeta>>(
        _ fingerprint: UInt64, _ labelRefs: [UInt32], _ refAt: Int, _ labelCount: Int,
        _ chunks: Chunks, into w: inout ByteWriter
    ) {
        let refs = labelRefs[refAt ..< refAt + 2 * labelCount]
        // The body length precedes the body, so size it first.
        var bodySize = 8 + ByteWriter.uvarintSize(UInt64(labelCount)) + ByteWriter.uvarintSize(UInt64(chunks.count))
        for ref in refs { bodySize += ByteWriter.uvarintSize(UInt64(ref)) }
        var previousMax: Int64 = 0
        var first = true
        for c in chunks {
            let minField = first ? c.minTime : c.minTime &- previousMax
            bodySize += ByteWriter.uvarintSize(zigzag(minField))
                + ByteWriter.uvarintSize(UInt64(bitPattern: c.maxTime &- c.minTime))
                + ByteWriter.uvarintSize(UInt64(c.kb)) + ByteWriter.uvarintSize(UInt64(c.seriesIndex)) + 4
            previousMax = c.maxTime
            first = false
        }

        w.appendUvarint(UInt64(bodySize))
        let bodyStart = w.count
        w.appendBE64(fingerprint)
        w.appendUvarint(UInt64(labelCount))
        for ref in refs { w.appendUvarint(UInt64(ref)) }
        w.appendUvarint(UInt64(chunks.count))
        previousMax = 0
        first = true
        for c in chunks {
            // Later chunks store MinTime as a signed delta to the previous MaxTime (chunks may overlap).
            w.appendVarint(first ? c.minTime : c.minTime &- previousMax)
            w.appendUvarint(UInt64(bitPattern: c.maxTime &- c.minTime))
            w.appendUvarint(UInt64(c.kb))
            w.appendUvarint(UInt64(c.seriesIndex))
            w.appendBE32(c.checksum)
            previousMax = c.maxTime
            first = false
        }
        assert(w.count - bodyStart == bodySize, "series body size mismatch")
        w.appendBE32(w.crc32c(bodyStart ..< w.count))
    }

    private static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    /// Every label of every series as (pair, series ordinal), sorted by pair then ordinal.
    private static func sortedOccurrences(_ groups: [IndexSeriesGroup], _ labelRefs: [UInt32]) -> [LabelOccurrence] {
        var occurrences: [LabelOccurrence] = []
        occurrences.reserveCapacity(labelRefs.count / 2)
        var ordinal: UInt32 = 0
        var refAt = 0
        for group in groups {
            for i in 0 ..< group.series.count {
                for _ in group.series.labelRange(i) {
                    let pair = UInt64(labelRefs[refAt]) << 32 | UInt64(labelRefs[refAt + 1])
                    occurrences.append(LabelOccurrence(pair: pair, ordinal: ordinal))
                    refAt += 2
                }
                ordinal += 1
            }
        }
        occurrences.sort()
        return occurrences
    }

    // §3.3: one label index per name (the empty name of all-postings is skipped).
    private static func writeLabelIndices(
        _ occurrences: [LabelOccurrence], _ symbols: IndexSymbols, base: Int, into w: inout ByteWriter
    ) -> [(nameRef: UInt32, offset: Int)] {
        var offsets: [(nameRef: UInt32, offset: Int)] = []
        var i = 0
        while i < occurrences.count {
            let nameRef = occurrences[i].nameRef
            let skipped = symbols.symbol(nameRef).isEmpty
            var frame = 0
            var countAt = 0
            if !skipped {
                w.pad(toMultipleOf: TSDBIndexLayout.listAlignment, from: base)
                offsets.append((nameRef, w.count - base))
                frame = w.beginFramed()
                w.appendBE32(1)
                countAt = w.count
                w.appendBE32(0)
            }
            var valueCount: UInt32 = 0
            var previousPair: UInt64? = nil
            while i < occurrences.count, occurrences[i].nameRef == nameRef {
                let pair = occurrences[i].pair
                if pair != previousPair {
                    if !skipped { w.appendBE32(occurrences[i].valueRef) }
                    valueCount += 1
                    previousPair = pair
                }
                i += 1
            }
            if !skipped {
                w.setBE32(valueCount, at: countAt)
                w.endFramed(frame)
            }
        }
        return offsets
    }

    // §3.4: all-postings first, then one list per distinct pair. Returns (pair, offset) per list;
    // the all-postings list is the first entry, with a pair that no table lookup uses.
    private static func writePostings(
        _ occurrences: [LabelOccurrence], _ seriesRefs: [UInt32], base: Int, into w: inout ByteWriter
    ) -> [(pair: UInt64, offset: Int)] {
        var offsets: [(pair: UInt64, offset: Int)] = [(0, 0)]
        w.pad(toMultipleOf: TSDBIndexLayout.listAlignment, from: base)
        offsets[0].offset = w.count - base
        var frame = w.beginFramed()
        w.appendBE32(UInt32(seriesRefs.count))
        for ref in seriesRefs { w.appendBE32(ref) }
        w.endFramed(frame)

        var i = 0
        while i < occurrences.count {
            let pair = occurrences[i].pair
            w.pad(toMultipleOf: TSDBIndexLayout.listAlignment, from: base)
            offsets.append((pair, w.count - base))
            frame = w.beginFramed()
            let countAt = w.count
            w.appendBE32(0)
            var count: UInt32 = 0
            while i < occurrences.count, occurrences[i].pair == pair {
                w.appendBE32(seriesRefs[Int(occurrences[i].ordinal)])
                count += 1
                i += 1
            }
            w.setBE32(count, at: countAt)
            w.endFramed(frame)
        }
        return offsets
    }

    // §3.5
    private static func writeLabelIndicesTable(
        _ offsets: [(nameRef: UInt32, offset: Int)], _ symbols: IndexSymbols, into w: inout ByteWriter
    ) {
        let frame = w.beginFramed()
        w.appendBE32(UInt32(offsets.count))
        for entry in offsets {
            w.appendUvarint(1)
            w.appendUvarintString(symbols.symbol(entry.nameRef))
            w.appendUvarint(UInt64(entry.offset))
        }
        w.endFramed(frame)
    }

    // §3.6: the first entry is the all-postings key ("", "").
    private static func writePostingsTable(
        _ offsets: [(pair: UInt64, offset: Int)], _ symbols: IndexSymbols, into w: inout ByteWriter
    ) {
        let frame = w.beginFramed()
        w.appendBE32(UInt32(offsets.count))
        w.append(contentsOf: [2, 0, 0] as [UInt8])
        w.appendUvarint(UInt64(offsets[0].offset))
        for entry in offsets.dropFirst() {
            w.appendUvarint(2)
            w.appendUvarintString(symbols.symbol(UInt32(entry.pair >> 32)))
            w.appendUvarintString(symbols.symbol(UInt32(truncatingIfNeeded: entry.pair)))
            w.appendUvarint(UInt64(entry.offset))
        }
        w.endFramed(frame)
    }

    // §3.7: series at call ordinals 0, 1024, 2048, …
    private static func writeFingerprintOffsets(_ groups: [IndexSeriesGroup], _ seriesRefs: [UInt32], into w: inout ByteWriter) {
        let frame = w.beginFramed()
        let n = seriesRefs.count
        w.appendBE32(UInt32((n + TSDBIndexLayout.fingerprintInterval - 1) / TSDBIndexLayout.fingerprintInterval))
        var ordinal = 0
        for group in groups {
            for fingerprint in group.series.fingerprints {
                if ordinal % TSDBIndexLayout.fingerprintInterval == 0 {
                    w.appendBE64(UInt64(seriesRefs[ordinal]))
                    w.appendBE64(fingerprint)
                }
                ordinal += 1
            }
        }
        w.endFramed(frame)
    }

    // §3.8
    private static func writeTOC(_ toc: TSDBTOC, into w: inout ByteWriter) {
        let start = w.count
        for offset in [toc.symbols, toc.series, toc.labelIndices, toc.labelIndicesTable,
                       toc.postings, toc.postingsTable, toc.fingerprintOffsets] {
            w.appendBE64(UInt64(offset))
        }
        w.appendBE64(UInt64(bitPattern: toc.from))
        w.appendBE64(UInt64(bitPattern: toc.through))
        w.appendBE32(w.crc32c(start ..< w.count))
    }
}
