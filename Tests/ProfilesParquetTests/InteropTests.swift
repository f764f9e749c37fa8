import BinaryCoding
import Foundation
@testable import ProfilesParquet
import Testing
import TestSupport

/// Files from an independent writer (pyarrow, made by Tests/Python/make_pyarrow_fixtures.py from
/// synthetic.json): DATA_PAGE v1 with dictionaries everywhere in two row groups, and DATA_PAGE_V2 with DELTA
/// encodings cut into many small pages. The reader must decode both to the synthetic table.
@Suite struct InteropTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        try TestData.bytes(PythonFixtureTests.directory.appendingPathComponent(name))
    }

    @Test func pyarrowDataPageV1WithDictionaries() throws {
        let bytes = try Self.fixture("pyarrow-v1-dictionary.parquet")
        let table = try readTable(bytes)
        #expect(table.schemaColumnCount == 21)
        #expect(table.columns == SampleTables.synthetic())
        let file = try ParsedFile(bytes)
        #expect(file.metadata.rowGroups.count == 2)
        #expect(try file.pages(ProfileColumn.stacktraceID.path).map { $0.header.type } == [2, 0])
    }

    @Test func pyarrowDataPageV2WithSmallDeltaPages() throws {
        let bytes = try Self.fixture("pyarrow-v2-delta.parquet")
        let table = try readTable(bytes)
        #expect(table.columns == SampleTables.synthetic())
        let file = try ParsedFile(bytes)
        #expect(try file.pages(ProfileColumn.stacktraceID.path).count > 1)
    }

    @Test func pyarrowTwentyColumnForm() throws {
        let table = try readTable(try Self.fixture("pyarrow-20-columns.parquet"))
        #expect(table.schemaColumnCount == 20)
        var want = SampleTables.synthetic()
        want.sampleTraceIDs = want.sampleTraceIDs.map { _ in 0 }
        #expect(table.columns == want)
    }
}
