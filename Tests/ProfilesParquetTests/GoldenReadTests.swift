import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

@Suite struct GoldenReadTests {
    @Test func everyGoldenSectionDecodes() throws {
        var rows = 0, samples = 0
        for ds in try GoldenSections.all() {
            let table = try readTable(ds.profiles)
            #expect(table.schemaColumnCount == 18)
            #expect(table.columns.isConsistent)
            rows += table.rowCount
            samples += table.columns.sampleCount
        }
        #expect(rows == 28)
        #expect(samples == 898)
    }

    /// §6 and §11: re-encoding a golden section's rows reproduces every page body and CRC of its
    /// 18 columns; only headers (page statistics) and the footer differ.
    @Test func reencodedGoldenPagesAreByteIdentical() throws {
        for ds in try GoldenSections.all() {
            let golden = try ParsedFile(ds.profiles)
            let table = try readTable(ds.profiles)
            let ours = try ParsedFile(writeSection(table.columns))
            for leaf in golden.leaves {
                let want = try golden.pageBytes(leaf.path), got = try ours.pageBytes(leaf.path)
                #expect(want == got, "\(ds.name) \(leaf.path.joined(separator: "."))")
                if want != got, let w = want.last, let g = got.last {
                    print(hexString(w.body.prefix(64), separator: " "))
                    print(hexString(g.body.prefix(64), separator: " "))
                }
            }
        }
    }
}
