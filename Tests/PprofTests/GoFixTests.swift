import BinaryCoding
import Testing
@testable import Pprof

/// `goFixed()`: upstream's `FixGoProfile`, checked against what upstream made of the same file.
@Suite struct GoFixTests {
    /// FNV-1a (64 bits) of the profile's samples, each `id,id,…|value,value`, sorted, joined by
    /// newlines: equal for equal stacks and values whatever the sample order.
    static func digest(_ p: PprofProfile) -> UInt64 {
        let lines = p.samples.map { s in
            s.locationIDs.map(String.init).joined(separator: ",") + "|" + s.values.map(String.init).joined(separator: ",")
        }.sorted()
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in lines.joined(separator: "\n").utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    @Test func aTruncatedGoCPUProfileIsRepairedAsUpstreamRepairsIt() throws {
        let original = try decodeProfile(corpusFile("cpu_go_truncated_1.pb.gz"))
        #expect(original.language == "go" && original.mayHaveTruncatedGoStacks)
        let fixed = original.goFixed()
        // Generic names lose their type parameters and the two `maps.Copy` instances become one.
        let names = Set(fixed.functions.map { fixed.stringTable[Int($0.name)] })
        #expect(names.contains("maps.Copy") && names.contains("cmp.Less") && !names.contains { $0.description.contains("go.shape") })
        #expect(fixed.functions.count < original.functions.count && fixed.locations.count == original.locations.count)
        // Each stack is one of the original's, maybe with root-most frames appended (no location
        // merged, so ids are unchanged).
        #expect(fixed.samples.count == original.samples.count)
        let before = Set(original.samples.map(\.locationIDs))
        #expect(fixed.samples.allSatisfy { s in (1 ... s.locationIDs.count).contains { before.contains(Array(s.locationIDs.prefix($0))) } })
        #expect(fixed.samples.map(\.locationIDs.count).reduce(0, +) > original.samples.map(\.locationIDs.count).reduce(0, +))
        // Upstream's RepairGoTruncatedStacktraces, run by Go 1.19 on this file with its sort made
        // stable (sort.SliceStable): 18 138 frames, 133 stacks deeper than 64, this digest. (With
        // Go's unstable sort, which orders equal suffixes as it likes, upstream appends other
        // samples' frames where a chain reaches past the shared 24: 18 309 frames.)
        #expect(fixed.samples.map(\.locationIDs.count).reduce(0, +) == 18_138)
        #expect(fixed.samples.filter { $0.locationIDs.count > 64 }.count == 133)
        #expect(Self.digest(fixed) == 0x7326_D863_569D_E982)
    }

    @Test func aGoHeapProfileCutAt32FramesIsRepairedAndOneWithDeeperStacksIsNot() throws {
        let heap = try decodeProfile(corpusFile("heap"))
        #expect(heap.language == "go" && heap.mayHaveTruncatedGoStacks)
        let fixed = heap.goFixed()
        // Upstream's function under Go with a stable sort, as above: 209 386 frames become 214 038.
        #expect(fixed.samples.map(\.locationIDs.count).reduce(0, +) == 214_038)
        #expect(Self.digest(fixed) == 0x94CA_461E_2A35_0AF4)
        var deep = heap
        deep.samples[0].locationIDs += Array(repeating: deep.samples[0].locationIDs[0], count: 33 - deep.samples[0].locationIDs.count)
        #expect(!deep.mayHaveTruncatedGoStacks, "a stack of 33 frames: Go 1.23+, nothing was cut")
    }

    @Test func typeParametersAreDroppedAsUpstreamDropsThem() {
        let cases: [(ByteString, ByteString)] = [
            ("cmp.Less[go.shape.string]", "cmp.Less"),
            ("slices.Sort[go.shape.[]string,go.shape.string]", "slices.Sort"),
            ("crypto/ecdh.(*nistCurve[go.shape.*uint8]).ecdh", "crypto/ecdh.(*nistCurve).ecdh"),
            ("a[go.shape.int].f[go.shape.map[string]int].g", "a.f.g"),
            ("main.main", "main.main"),
            ("x[int].f", "x[int].f"),
            // Unclosed: upstream keeps the rest, and writes what preceded it twice.
            ("p.f[go.shape.int", "p.fp.f[go.shape.int"),
        ]
        for (input, expected) in cases {
            #expect(PprofProfile.droppingGoTypeParameters(input) == expected, "\(input)")
        }
    }

    @Test func languageIsTheFirstStringThatNamesOne() {
        var p = PprofProfile()
        p.stringTable = ["", "cpu", "com/example/Main", "java/lang/Thread.run", "main.go"]
        #expect(p.language == "java")
        p.stringTable = ["", "samples", "System.Threading"]
        #expect(p.language == "dotnet")
        p.stringTable = ["", "samples", "nothing"]
        #expect(p.language == "unknown")
    }

    @Test func mergingWithItselfKeepsTheFirstOfEqualSymbolsAndSumsEqualSamples() {
        var p = PprofProfile()
        p.stringTable = ["", "cpu", "f", "f", "file"]
        p.sampleTypes = [ValueTypeRef(type: 1, unit: 0)]
        p.functions = [(UInt64(7), Int64(2)), (9, 3)].map { id, name in
            var f = FunctionRecord()
            f.id = id
            f.name = name
            f.filename = 4
            return f
        }
        p.locations = [
            .init(id: 5, lines: [LineRecord(functionID: 7, line: 1)]),
            .init(id: 6, lines: [LineRecord(functionID: 9, line: 1)]),  // the same once f and f are one
            .init(id: 8, address: 0x10, lines: [LineRecord(functionID: 9, line: 1)]),
        ]
        p.samples = [.init(locationIDs: [5], values: [1]), .init(locationIDs: [8, 6], values: [2]), .init(locationIDs: [6], values: [4])]
        let m = p.mergedWithItself()
        #expect(m.stringTable == ["", "cpu", "f", "file"])
        #expect(m.functions.map(\.id) == [1] && m.functions[0].name == 2 && m.functions[0].filename == 3)
        #expect(m.locations.map(\.id) == [1, 2] && m.locations[1].address == 0x10)
        #expect(m.samples == [.init(locationIDs: [1], values: [5]), .init(locationIDs: [2, 1], values: [2])])
    }
}
