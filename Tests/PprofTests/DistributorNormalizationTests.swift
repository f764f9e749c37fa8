import BinaryCoding
import Pprof
import Testing

/// `distributorNormalized()`: upstream's `pprof.Profile.Normalize`, step by step on a profile
/// built to need each step (the corpus round trip in AccumulatorTests checks the meaning).
@Suite struct DistributorNormalizationTests {
    /// Strings: 1 cpu, 2 nanoseconds, 3–5 function names, 6 file, 7 bytes, 8 k, 9 v, 10 lib.so.
    static func profile() -> PprofProfile {
        var p = PprofProfile()
        p.stringTable = ["", "cpu", "nanoseconds", "f1", "f2", "f3", "file", "bytes", "k", "v", "lib.so"]
        p.sampleTypes = [ValueTypeRef(type: 1, unit: 2)]
        p.functions = (1 ... 3).map { i in
            var f = FunctionRecord()
            f.id = UInt64(i)
            f.name = Int64(2 + i)
            f.filename = 6
            return f
        }
        var symbolized = MappingRecord()
        symbolized.id = 1
        symbolized.memoryStart = 0x1000
        symbolized.memoryLimit = 0x9000
        symbolized.fileOffset = 0x100
        symbolized.filename = 10
        symbolized.hasFunctions = true
        p.mappings = [symbolized]
        let line = { (f: UInt64) in LineRecord(functionID: f, line: 10, column: 0) }
        p.locations = [
            .init(id: 1, mappingID: 1, address: 0x1234, lines: [line(1)]),
            .init(id: 2, mappingID: 0, address: 0x2000, lines: [line(2)]),
            .init(id: 3, mappingID: 1, address: 0x3000, lines: [line(3)]),  // only a zero sample's
            .init(id: 4, mappingID: 1, address: 0, lines: []),  // neither lines nor address
        ]
        let kv = SampleLabel(key: 8, str: 9), bytes = SampleLabel(key: 7, num: 512)
        p.samples = [
            .init(locationIDs: [1, 2], values: [5], labels: [kv, bytes]),
            .init(locationIDs: [1, 2], values: [7], labels: [kv]),  // the same once `bytes` is gone
            .init(locationIDs: [3], values: [0]),
            .init(locationIDs: [4, 1], values: [3]),
            .init(locationIDs: [1], values: [-1]),
            .init(locationIDs: [2], values: [4]),
        ]
        return p
    }

    @Test func eachStepOfUpstreamsNormalize() throws {
        let n = Self.profile().distributorNormalized()
        // Samples: numeric labels gone, duplicates summed, zero, negative and empty-location ones out.
        let byStack = Dictionary(uniqueKeysWithValues: n.samples.map { ($0.locationIDs, $0) })
        #expect(n.samples.count == 2)
        #expect(byStack[[1, 2]]?.values == [12] && byStack[[1, 2]]?.labels.count == 1)
        #expect(byStack[[2]]?.values == [4] && byStack[[2]]?.labels == [])
        // Symbols only removed samples used are gone, their strings too (indices shifted).
        #expect(n.locations.map(\.id) == [1, 2])
        #expect(n.functions.map { n.stringTable[Int($0.name)] } == ["f1", "f2"])
        #expect(!n.stringTable.contains("f3") && n.stringTable.count == 10 && n.stringTable[0] == "")
        #expect(n.functions.allSatisfy { n.stringTable[Int($0.filename)] == "file" })
        #expect(n.mappings.first.map { n.stringTable[Int($0.filename)] } == "lib.so")
        #expect(n.sampleTypes.map { [n.stringTable[Int($0.type)], n.stringTable[Int($0.unit)]] } == [["cpu", "nanoseconds"]])
        #expect(byStack[[1, 2]]?.labels.map { [n.stringTable[Int($0.key)], n.stringTable[Int($0.str)]] } == [["k", "v"]])
        // The location without mapping gets a stub; a symbolized mapping's addresses are cleared.
        let stub = try #require(n.mappings.last)
        #expect(n.mappings.count == 2 && stub.id == 2 && !stub.hasFunctions && stub.filename == 0)
        #expect(n.locations[1].mappingID == 2 && n.locations[1].address == 0x2000, "an unsymbolized mapping keeps addresses")
        #expect(n.locations[0].address == 0 && n.mappings[0].memoryStart == 0 && n.mappings[0].memoryLimit == 0
                && n.mappings[0].fileOffset == 0)
        // It encodes and decodes as a valid pprof.
        let decoder = PprofDecoder()
        try PprofEncoder.encode(n).withUnsafeBytes { try decoder.decode($0) }
        #expect(decoder.sampleCount == 2)
    }

    @Test func aCleanProfileKeepsItsSymbolsAndSums() {
        var p = Self.profile()
        p.samples = [.init(locationIDs: [1], values: [2]), .init(locationIDs: [3, 1], values: [3]), .init(locationIDs: [1], values: [5])]
        let n = p.distributorNormalized()
        #expect(n.samples.count == 2 && n.samples.map { $0.values[0] }.reduce(0, +) == 10)
        #expect(n.locations.count == 3, "the empty location is dropped, the rest stay")
        #expect(n.stringTable == p.stringTable)
    }
}
