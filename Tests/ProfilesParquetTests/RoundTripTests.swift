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

    @Test func goldenRowsRoundTripInCurrentForm() throws {
        for ds in try GoldenSections.all() {
            let golden = try readTable(ds.profiles)
            let table = try readTable(writeSection(golden.columns))
            #expect(table.schemaColumnCount == 21)
            #expect(table.columns == golden.columns, "\(ds.name)")
        }
    }

    @Test func writerAppendsAtAnOffset() throws {
        var w = ByteWriter()
        w.append(contentsOf: [1, 2, 3])
        ProfilesParquetWriter.write(SampleTables.synthetic(), into: &w)
        #expect(Array(w.bytes.dropFirst(3)) == writeSection(SampleTables.synthetic()))
    }
}
