import Testing
import TestSupport

@Suite struct GoldenSectionsTests {
    @Test func goldenDatasetsAreFramedAsTheSpecSays() throws {
        let datasets = try GoldenSections.all()
        #expect(datasets.count == 11)
        for ds in datasets {
            #expect(Array(ds.profiles.prefix(4)) == Array("PAR1".utf8), "\(ds.name)")
            #expect(Array(ds.profiles.suffix(4)) == Array("PAR1".utf8), "\(ds.name)")
            #expect(Array(ds.tsdb.prefix(5)) == [0xBA, 0xAA, 0xD7, 0x00, 0x02], "\(ds.name)")
            #expect(Array(ds.symbols.suffix(24).prefix(4)) == Array("sym1".utf8), "\(ds.name)")
        }
    }
}
