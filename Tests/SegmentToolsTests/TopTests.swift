import BinaryCoding
import SegmentObject
import SegmentTools
import Testing
import TestSupport

@Suite struct TopTests {
    /// Self and total of the heaviest functions of the golden with the most samples, against
    /// an independent fold over the reader's rows.
    @Test func heaviestFunctionsMatchAnIndependentFold() throws {
        let inputs = try goldenInputs()
        let verifiedAll = try inputs.map { try $0.verified() }
        let verified = try #require(verifiedAll.max { a, b in
            a.datasets.compactMap { $0.profiles?.columns.sampleCount }.reduce(0, +) < b.datasets.compactMap { $0.profiles?.columns.sampleCount }.reduce(0, +)
        })
        var selfSums: [ByteString: [ByteString: Int64]] = [:]
        var totalSums: [ByteString: [ByteString: Int64]] = [:]
        var typeTotals: [ByteString: Int64] = [:]
        for d in verified.datasets where d.layout.format == .services {
            let c = try #require(d.profiles).columns
            let partitions = Dictionary(try #require(d.symbols).partitions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for r in 0 ..< c.rowCount {
                let type = d.index.series[Int(c.seriesIndex[r])].labels.first { $0.name == "__profile_type__" }!.value
                let p = try #require(partitions[c.stacktracePartition[r]])
                for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                    let names = try p.resolveStack(UInt32(c.sampleStacktraceIDs[s])).flatMap { i in
                        p.locations[Int(i)].lines.map { p.strings[Int(p.functions[Int($0.functionID)].name)] }
                    }
                    let v = c.sampleValues[s]
                    typeTotals[type, default: 0] += v
                    if let leaf = names.first { selfSums[type, default: [:]][leaf, default: 0] += v }
                    for n in Set(names) { totalSums[type, default: [:]][n, default: 0] += v }
                }
            }
        }
        let table = try TopTable.compute(verified, limit: 10)
        #expect(table.map(\.profileType) == typeTotals.keys.sorted())
        for t in table {
            #expect(t.total == typeTotals[t.profileType])
            #expect(!t.entries.isEmpty)
            for e in t.entries {
                #expect(e.selfValue == selfSums[t.profileType]?[e.function] ?? 0, "\(e.function)")
                #expect(e.totalValue == totalSums[t.profileType]?[e.function])
            }
            // The heaviest by self come first.
            let selfOfType = selfSums[t.profileType] ?? [:]
            let ranked = totalSums[t.profileType]!.keys.map { selfOfType[$0] ?? 0 }.sorted(by: >).prefix(t.entries.count)
            #expect(t.entries.map(\.selfValue) == Array(ranked))
        }
        #expect(TopTable.text(table).contains("self%"))
    }
}
