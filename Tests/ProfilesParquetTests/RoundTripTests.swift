import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

@Suite struct RoundTripTests {
    /// §10 check 10: decoding the written file yields exactly the columns written.
    @Test func syntheticTableRoundTrips() throws {
        let c = SampleTables.synthetic()
        let table = try readTable(writeSection(c))
        #expect(table.schemaColumnCount == 21)
        #expect(table.rowCount == 3)
        #expect(table.columns == c)
    }

    @Test func multiPageTableRoundTrips() throws {
        let c = SampleTables.large(rows: 100, samplesPerRow: 100)
        let bytes = writeSection(c)
        let file = try ParsedFile(bytes)
        let pages = try file.pages(ProfileColumn.stacktraceID.path)
        #expect(pages.count == 3)
        #expect(try file.pages(ProfileColumn.seriesIndex.path).count == 1)
        #expect(try readTable(bytes).columns == c)
    }

    /// §5 "Page cutting": the verified 300-row × 400-sample shape gives 8 pages of 42 rows for the
    /// sample columns and a single page for the per-row columns.
    @Test func pageCutsFallOnRowBatches() throws {
        let file = try ParsedFile(writeSection(SampleTables.large(rows: 300, samplesPerRow: 400)))
        for column in [ProfileColumn.stacktraceID, .value, .spanID, .traceID] {
            let pages = try file.pages(column.path).filter { $0.header.type == PageType.dataPageV2.rawValue }
            #expect(pages.map { $0.header.numRows } == Array(repeating: 42, count: 7) + [6], "\(column)")
        }
        for column in [ProfileColumn.id, .seriesIndex, .timeNanos, .durationNanos, .comments, .annotationKey] {
            #expect(try file.pages(column.path).count == 1, "\(column)")
        }
    }

    @Test func goldenRowsRoundTripInCurrentForm() throws {
        for ds in try GoldenSections.all() {
            let golden = try readTable(ds.profiles)
            let table = try readTable(writeSection(golden.columns))
            #expect(table.schemaColumnCount == 21)
            #expect(table.columns == golden.columns, "\(ds.name)")
        }
    }

    /// §4 and §10 checks 6–7: the level streams of the null conventions.
    @Test func levelStreamsFollowTheNullConventions() throws {
        let file = try ParsedFile(writeSection(SampleTables.synthetic()))
        // Row 0: spans (first one 0), trace IDs with a zero in the middle; row 1: no spans/traces;
        // row 2: no samples.
        let spans = try #require(try file.column(.spanID))
        #expect(spans.repetitionLevels == [0, 1, 1, 0, 1, 1, 0])
        #expect(spans.definitionLevels == [2, 2, 2, 1, 1, 1, 0])
        #expect(spans.ints == [0, 0xdead_beef, 0xdead_beef])
        let traces = try #require(try file.column(.traceID))
        #expect(traces.definitionLevels == [2, 1, 2, 1, 1, 1, 0])
        let pages = try file.pages(ProfileColumn.traceID.path)
        #expect(pages[0].header.type == PageType.dictionaryPage.rawValue && pages[0].header.numValues == 1)
        let key = try #require(try file.column(.labelKey))
        #expect(key.definitionLevels == [1, 1, 1, 1, 1, 1, 0] && key.ints.isEmpty)
        let stack = try #require(try file.column(.stacktraceID))
        #expect(stack.definitionLevels == [1, 1, 1, 1, 1, 1, 0])
        let drop = try #require(try file.column(.dropFrames))
        #expect(drop.definitionLevels == [1, 0, 0] && drop.ints == [4])
        let duration = try #require(try file.column(.durationNanos))
        #expect(duration.definitionLevels == [1, 0, 1] && duration.ints == [15_001_112_528, -1])
        let period = try #require(try file.column(.period))
        #expect(period.definitionLevels == [1, 0, 0])
        let comments = try #require(try file.column(.comments))
        #expect(comments.repetitionLevels == [0, 1, 0, 0] && comments.definitionLevels == [1, 1, 0, 0])
        let annotations = try #require(try file.column(.annotationKey))
        #expect(annotations.repetitionLevels == [0, 1, 0, 0] && annotations.definitionLevels == [1, 1, 1, 0])
        #expect(annotations.byteArrays == ["throttled", "k", "throttled"])
    }

    @Test func writerAppendsAtAnOffset() throws {
        var w = ByteWriter()
        w.append(contentsOf: [1, 2, 3])
        ProfilesParquetWriter.write(SampleTables.synthetic(), into: &w)
        #expect(Array(w.bytes.dropFirst(3)) == writeSection(SampleTables.synthetic()))
    }

    /// Without span (or trace) IDs anywhere, an empty `sampleSpanIDs` (or `sampleTraceIDs`), as the
    /// accumulator hands them over then, writes the same bytes as a column of zeros, and reads
    /// back as one.
    @Test func emptySpanAndTraceColumnsWriteAsZeros() throws {
        var zeros = SampleTables.large(rows: 40, samplesPerRow: 300)
        zeros.sampleSpanIDs = zeros.sampleSpanIDs.map { _ in 0 }
        zeros.rowHasSpanIDs = zeros.rowHasSpanIDs.map { _ in false }
        zeros.sampleTraceIDs = zeros.sampleTraceIDs.map { _ in 0 }
        var empty = zeros
        empty.sampleSpanIDs = []
        empty.sampleTraceIDs = []
        #expect(empty.isConsistent && zeros.isConsistent)
        #expect(writeSection(empty) == writeSection(zeros))
        #expect(try readTable(writeSection(empty)).columns == zeros)
        // Spans on a row need the column.
        empty.rowHasSpanIDs[0] = true
        #expect(!empty.isConsistent)
        // Each column on its own: spans without traces, traces without spans.
        let both = SampleTables.large(rows: 40, samplesPerRow: 300)
        var spansOnly = both, spansOnlyEmpty = both
        spansOnly.sampleTraceIDs = both.sampleTraceIDs.map { _ in 0 }
        spansOnlyEmpty.sampleTraceIDs = []
        #expect(writeSection(spansOnlyEmpty) == writeSection(spansOnly))
        var tracesOnly = both, tracesOnlyEmpty = both
        tracesOnly.rowHasSpanIDs = both.rowHasSpanIDs.map { _ in false }
        tracesOnly.sampleSpanIDs = both.sampleSpanIDs.map { _ in 0 }
        tracesOnlyEmpty.rowHasSpanIDs = tracesOnly.rowHasSpanIDs
        tracesOnlyEmpty.sampleSpanIDs = []
        #expect(writeSection(tracesOnlyEmpty) == writeSection(tracesOnly))
    }
}
