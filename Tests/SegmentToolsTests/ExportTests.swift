import BinaryCoding
import Pprof
import SegmentObject
import SegmentTools
import Testing
import TestSupport

/// Exported pprofs against a fold straight from the section readers.
@Suite struct ExportTests {
    @Test func everyGoldenDatasetExportsItsRows() throws {
        var rows = 0
        for input in try goldenInputs() {
            rows += try expectExportMatchesReaders(input)
        }
        #expect(rows > 0)
    }

    @Test func accumulatedCorpusExportsItsRows() throws {
        let bytes = try accumulatedObject(["cpu-exemplars.pb.gz", "heap", "profile_python", "go.cpu.labels.pprof", "nodejs-wall.pb.gz"])
        #expect(try expectExportMatchesReaders(ObjectInput(path: "accumulated", bytes: bytes)) > 0)
    }

    /// Returns the number of rows checked.
    private func expectExportMatchesReaders(_ input: ObjectInput) throws -> Int {
        let verified = try input.verified()
        var checked = 0
        for d in verified.datasets where d.layout.format == .services {
            let ranges = Dictionary(uniqueKeysWithValues: d.layout.sections.map { ($0.kind.rawValue, $0.range) })
            let expected = try input.bytes.withUnsafeBytes { raw in
                try referenceSums(profiles: UnsafeRawBufferPointer(rebasing: raw[ranges["profiles.parquet"]!]),
                                  symbols: UnsafeRawBufferPointer(rebasing: raw[ranges["symbols.symdb"]!]))
            }
            let exported = try PprofExport.export(verified, dataset: d.layout.position)
            try #require(exported.count == expected.count)
            let table = try #require(d.profiles)
            for (e, want) in zip(exported, expected) {
                let p = try decodePprof(e.gzip)
                #expect(try sums(p) == want, "\(input.path) dataset \(e.dataset) row \(e.row)")
                let series = d.index.series[Int(table.columns.seriesIndex[e.row])]
                let seriesLabels = Dictionary(series.labels.filter { !$0.name.bytes.starts(with: Array("__".utf8)) }.map { ($0.name, $0.value) },
                                              uniquingKeysWith: { a, _ in a })
                #expect(!seriesLabels.isEmpty)
                #expect(p.samples.allSatisfy { labels(p, $0) == seriesLabels })
                let type = series.labels.first { $0.name == "__profile_type__" }!.value
                #expect(e.profileType == type)
                let parts = type.description.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                #expect(p.sampleTypes.map { p.stringTable[Int($0.type)].description } == [parts[1]])
                #expect(p.timeNanos == table.columns.timeNanos[e.row])
                checked += 1
            }
        }
        return checked
    }
}
