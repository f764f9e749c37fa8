import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

@Suite struct GoldenReadTests {
    @Test func everyGoldenSectionDecodes() throws {
        for ds in try GoldenSections.all() {
            let table = try ds.profiles.withUnsafeBytes { try ProfilesParquetReader.read($0) }
            print(ds.name, table.rowCount, table.schemaColumnCount, table.columns.sampleCount)
        }
    }
}
