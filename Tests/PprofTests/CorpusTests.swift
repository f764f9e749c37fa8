import BinaryCoding
import Pprof
import Testing
import TestSupport

/// Counts of every shared-corpus file, from an independent decoder: a Python wire parser with no
/// protobuf library (`Tests/Python/pprof_corpus_counts.py`), run once, its rows pasted here.
struct CorpusCounts: Sendable, CustomTestStringConvertible {
    var name: String
    var gzip: Bool
    var bytes, sampleTypes, samples, sampleLocations, values, labels: Int
    var mappings, locations, lines, functions, strings, stringBytes: Int
    var valueSum: Int64
    var locationIDSum: UInt64

    init(_ name: String, gzip: Bool, bytes: Int, sampleTypes: Int, samples: Int, sampleLocations: Int, values: Int,
         labels: Int, mappings: Int, locations: Int, lines: Int, functions: Int, strings: Int, stringBytes: Int,
         valueSum: Int64, locationIDSum: UInt64) {
        self.name = name; self.gzip = gzip; self.bytes = bytes; self.sampleTypes = sampleTypes
        self.samples = samples; self.sampleLocations = sampleLocations; self.values = values; self.labels = labels
        self.mappings = mappings; self.locations = locations; self.lines = lines; self.functions = functions
        self.strings = strings; self.stringBytes = stringBytes; self.valueSum = valueSum; self.locationIDSum = locationIDSum
    }

    var testDescription: String { name }

    static let all: [CorpusCounts] = [
        .init("cpu-exemplars.pb.gz", gzip: true, bytes: 29408, sampleTypes: 2, samples: 480, sampleLocations: 5136, values: 960, labels: 1430, mappings: 1, locations: 32, lines: 34, functions: 22, strings: 477, stringBytes: 8240, valueSum: 8730000873, locationIDSum: 30232),
        .init("cpu_go_truncated_1.pb.gz", gzip: true, bytes: 170437, sampleTypes: 2, samples: 647, sampleLocations: 16294, values: 1294, labels: 0, mappings: 5, locations: 1922, lines: 2195, functions: 1248, strings: 1637, stringBytes: 76092, valueSum: 7560000756, locationIDSum: 5287892),
        .init("dotnet-pprof-3.pb.gz", gzip: false, bytes: 54146, sampleTypes: 6, samples: 579, sampleLocations: 41181, values: 3474, labels: 0, mappings: 0, locations: 41, lines: 41, functions: 41, strings: 64, stringBytes: 3536, valueSum: 5653000000, locationIDSum: 523488),
        .init("dotnet.labels.pprof", gzip: false, bytes: 290213, sampleTypes: 6, samples: 2814, sampleLocations: 215156, values: 16884, labels: 5628, mappings: 0, locations: 48, lines: 48, functions: 48, strings: 75, stringBytes: 3757, valueSum: 9093062040, locationIDSum: 2658926),
        .init("go.cpu.labels.pprof", gzip: true, bytes: 29408, sampleTypes: 2, samples: 480, sampleLocations: 5136, values: 960, labels: 1430, mappings: 1, locations: 32, lines: 34, functions: 22, strings: 477, stringBytes: 8240, valueSum: 8730000873, locationIDSum: 30232),
        .init("heap", gzip: true, bytes: 847108, sampleTypes: 4, samples: 11951, sampleLocations: 209386, values: 47804, labels: 11951, mappings: 1, locations: 4676, lines: 5711, functions: 2405, strings: 3006, stringBytes: 154832, valueSum: 2198997735918, locationIDSum: 101247992),
        .init("heap_delta", gzip: true, bytes: 31123, sampleTypes: 4, samples: 38, sampleLocations: 578, values: 152, labels: 38, mappings: 3, locations: 262, lines: 291, functions: 252, strings: 546, stringBytes: 18974, valueSum: 28081096, locationIDSum: 111790),
        .init("invalid_utf8.pb.gz", gzip: true, bytes: 350, sampleTypes: 1, samples: 1, sampleLocations: 2, values: 1, labels: 0, mappings: 1, locations: 2, lines: 2, functions: 2, strings: 5, stringBytes: 272, valueSum: 1, locationIDSum: 3),
        .init("no_addr_no_line.pb.gz", gzip: true, bytes: 1665, sampleTypes: 1, samples: 2, sampleLocations: 90, values: 2, labels: 0, mappings: 3, locations: 36, lines: 31, functions: 30, strings: 34, stringBytes: 737, valueSum: 105263156, locationIDSum: 1990),
        .init("nodejs-wall.pb.gz", gzip: true, bytes: 8032, sampleTypes: 2, samples: 16, sampleLocations: 366, values: 32, labels: 0, mappings: 0, locations: 87, lines: 87, functions: 67, strings: 164, stringBytes: 5517, valueSum: 8980898, locationIDSum: 10982),
        .init("profile_java", gzip: true, bytes: 51662, sampleTypes: 1, samples: 2614, sampleLocations: 12386, values: 2614, labels: 0, mappings: 0, locations: 201, lines: 201, functions: 201, strings: 205, stringBytes: 6526, valueSum: 5020648123, locationIDSum: 456387),
        .init("profile_nodejs", gzip: true, bytes: 8275, sampleTypes: 1, samples: 27, sampleLocations: 612, values: 27, labels: 0, mappings: 1, locations: 87, lines: 87, functions: 78, strings: 172, stringBytes: 5131, valueSum: 39670000, locationIDSum: 11645),
        .init("profile_python", gzip: true, bytes: 27652, sampleTypes: 1, samples: 438, sampleLocations: 7620, values: 438, labels: 0, mappings: 1, locations: 463, lines: 463, functions: 199, strings: 248, stringBytes: 7448, valueSum: 234084, locationIDSum: 358232),
        .init("profile_ruby", gzip: true, bytes: 217909, sampleTypes: 1, samples: 1662, sampleLocations: 101650, values: 1662, labels: 0, mappings: 1, locations: 913, lines: 913, functions: 885, strings: 1091, stringBytes: 72841, valueSum: 258747, locationIDSum: 6429027),
        .init("profile_rust", gzip: true, bytes: 14401, sampleTypes: 1, samples: 30, sampleLocations: 2526, values: 30, labels: 0, mappings: 1, locations: 137, lines: 137, functions: 137, strings: 140, stringBytes: 8697, valueSum: 11960000000, locationIDSum: 97255),
        .init("profile_uncompressed", gzip: false, bytes: 26555, sampleTypes: 2, samples: 48, sampleLocations: 959, values: 96, labels: 0, mappings: 3, locations: 287, lines: 309, functions: 247, strings: 363, stringBytes: 15381, valueSum: 500000050, locationIDSum: 80018),
        .init("pyspy-1.pb.gz", gzip: false, bytes: 645, sampleTypes: 1, samples: 16, sampleLocations: 50, values: 16, labels: 16, mappings: 0, locations: 12, lines: 12, functions: 7, strings: 17, stringBytes: 147, valueSum: 781, locationIDSum: 261),
        .init("single_group_with_optional_span_id.pb.gz", gzip: true, bytes: 12545, sampleTypes: 2, samples: 63, sampleLocations: 915, values: 126, labels: 222, mappings: 1, locations: 159, lines: 182, functions: 115, strings: 164, stringBytes: 4610, valueSum: 1320000132, locationIDSum: 33747),
    ]
}

@Suite struct CorpusTests {
    @Test func tableCoversTheWholeCorpus() throws {
        let names = try TestData.pprofFiles().map(\.lastPathComponent)
        #expect(names == CorpusCounts.all.map(\.name))
    }

    @Test(arguments: CorpusCounts.all)
    func fileDecodesWithIndependentCounts(_ expected: CorpusCounts) throws {
        let stored = try corpusFile(expected.name)
        let inflater = ProfileInflater()
        let d = PprofDecoder()
        try stored.withUnsafeBytes { raw in
            let bytes = try inflater.inflate(raw)
            #expect(inflater.lastInputWasGzip == expected.gzip)
            #expect(bytes.count == expected.bytes)
            try d.decode(bytes)
        }
        #expect(d.sampleTypes.count == expected.sampleTypes)
        #expect(d.sampleCount == expected.samples)
        #expect(d.sampleLocationIDs.count == expected.sampleLocations)
        #expect(d.sampleValues.count == expected.values)
        #expect(d.sampleLabels.count == expected.labels)
        #expect(d.mappings.count == expected.mappings)
        #expect(d.locations.count == expected.locations)
        #expect(d.lines.count == expected.lines)
        #expect(d.functions.count == expected.functions)
        #expect(d.strings.count == expected.strings)
        #expect(d.strings.reduce(0) { $0 + Int($1.length) } == expected.stringBytes)
        #expect(d.sampleValues.reduce(0, &+) == expected.valueSum)
        #expect(d.sampleLocationIDs.reduce(0, &+) == expected.locationIDSum)
    }

    /// symdb.md §11 check 5: every file but dotnet-pprof-3 is ingestible raw; that one must be
    /// rejected (its functions all have id 0, its lines reference ids 1...41).
    @Test(arguments: CorpusCounts.all)
    func referencesResolveExceptForDotnetPprof3(_ expected: CorpusCounts) throws {
        let stored = try corpusFile(expected.name)
        let d = PprofDecoder()
        if expected.name == "dotnet-pprof-3.pb.gz" {
            #expect(throws: PprofError.missingFunction(location: 0, functionID: 1)) {
                _ = try decodeProfile(stored, decoder: d)
            }
            return
        }
        let p = try decodeProfile(stored, decoder: d)
        // Every resolved index names the entry with the referenced id.
        for (k, index) in d.sampleLocationIndices.enumerated() {
            #expect(d.locations[Int(index)].id == d.sampleLocationIDs[k])
        }
        for (i, l) in d.locations.enumerated() {
            if l.mappingID == 0 {
                #expect(l.mappingIndex == LocationRecord.noMapping)
            } else {
                #expect(d.mappings[Int(l.mappingIndex)].id == l.mappingID)
            }
            for line in d.lines(ofLocation: i) { #expect(d.functions[Int(line.functionIndex)].id == line.functionID) }
        }
        #expect(d.symbolStringMask.count == p.stringTable.count)
    }

    /// Decode → plain values → PprofEncoder → decode gives the same profile, gzip or not.
    @Test(arguments: CorpusCounts.all)
    func encoderRoundTrips(_ expected: CorpusCounts) throws {
        let original = try decodeProfile(try corpusFile(expected.name), resolve: false)
        let encoded = PprofEncoder.encode(original)
        #expect(try decodeProfile(encoded, resolve: false) == original)
        #expect(try decodeProfile(PprofEncoder.gzip(encoded, level: 1), resolve: false) == original)
        // Already in Go's canonical field order: re-encoding is byte-stable.
        #expect(PprofEncoder.encode(try decodeProfile(encoded, resolve: false)) == encoded)
    }

    /// Files written by Go's generated marshaller (not by `runtime/pprof`, which orders fields
    /// and packs differently) come back byte for byte.
    @Test(arguments: ["dotnet-pprof-3.pb.gz", "dotnet.labels.pprof", "heap_delta", "invalid_utf8.pb.gz", "profile_nodejs",
                      "profile_python", "profile_ruby", "profile_rust", "pyspy-1.pb.gz"])
    func encoderMatchesGoMarshalledFilesByteForByte(_ name: String) throws {
        let stored = try corpusFile(name)
        let inflater = ProfileInflater()
        let original = try stored.withUnsafeBytes { Array(try inflater.inflate($0)) }
        #expect(PprofEncoder.encode(try decodeProfile(stored, resolve: false)) == original)
    }

    /// ingest-and-ops.md §2.1 step 3: string-table bytes are taken as is, no UTF-8 check.
    @Test func invalidUTF8StringsAreKeptAsRawBytes() throws {
        let p = try decodeProfile(try corpusFile("invalid_utf8.pb.gz"))
        let invalid = p.stringTable.filter { s in s.bytes.withUnsafeBytes { !isValidUTF8($0) } }
        #expect(!invalid.isEmpty)
        #expect(p.samples.count == 1)
    }

    /// "Truncated" means Go's 64-frame stack truncation: the file itself is whole and decodes
    /// unchanged (the repair heuristic is the distributor's, ingest-and-ops.md §2.2).
    @Test func truncatedGoProfileDecodesAsIs() throws {
        let d = PprofDecoder()
        let p = try decodeProfile(try corpusFile("cpu_go_truncated_1.pb.gz"), decoder: d)
        #expect(p.samples.count == 647)
        let depths = (0 ..< d.sampleCount).map { d.locationIDs(ofSample: $0).count }
        #expect(depths.max() == 64)
    }

    @Test func spotValuesOfGoCPUProfile() throws {
        let d = PprofDecoder()
        let p = try decodeProfile(try corpusFile("go.cpu.labels.pprof"), decoder: d)
        func s(_ i: Int64) -> String { p.stringTable[Int(i)].description }
        #expect(p.sampleTypes.map { "\(s($0.type))/\(s($0.unit))" } == ["samples/count", "cpu/nanoseconds"])
        #expect(p.periodType.map { "\(s($0.type))/\(s($0.unit))" } == "cpu/nanoseconds")
        #expect(p.period == 10_000_000)
        #expect(p.timeNanos == 1_654_798_932_062_349_000)
        #expect(p.durationNanos == 10_123_363_553)
        #expect(p.stringTable[0].isEmpty)
        #expect(d.sampleLabels.allSatisfy { $0.str != 0 || $0.num != 0 })
    }

    /// The columns are views of the decoder's storage: before any decode and after an empty
    /// profile they show no samples (one leading 0 in each starts column); after the next
    /// decode they show that profile, not the previous one.
    @Test func columnsShowTheLastDecodedProfile() throws {
        let d = PprofDecoder()
        #expect(d.sampleCount == 0 && Array(d.sampleLocationStarts) == [0] && Array(d.sampleValueStarts) == [0])
        let inflater = ProfileInflater()
        try corpusFile("heap").withUnsafeBytes { raw in
            try d.decode(try inflater.inflate(raw))
            try d.resolveReferences()
        }
        #expect(d.sampleCount > 0 && d.sampleLocationStarts.count == d.sampleCount + 1)
        try [UInt8]().withUnsafeBytes { try d.decode($0) }
        try d.resolveReferences()
        #expect(d.sampleCount == 0 && Array(d.sampleLocationStarts) == [0] && d.sampleLocationIDs.isEmpty
                && d.sampleLocationIndices.isEmpty && d.locations.isEmpty && d.strings.isEmpty)
    }

    /// Steady state: decoding the same profile again keeps every column's storage.
    @Test func decoderKeepsCapacityBetweenProfiles() throws {
        let stored = try corpusFile("heap")
        let inflater = ProfileInflater()
        let d = PprofDecoder()
        func run() throws -> [UnsafeRawPointer?] {
            try stored.withUnsafeBytes { raw in
                try d.decode(try inflater.inflate(raw))
                try d.resolveReferences()
            }
            return [
                UnsafeRawPointer(d.sampleLocationIDs.baseAddress), UnsafeRawPointer(d.sampleValues.baseAddress),
                UnsafeRawPointer(d.sampleLabels.baseAddress), UnsafeRawPointer(d.locations.baseAddress),
                UnsafeRawPointer(d.lines.baseAddress), UnsafeRawPointer(d.strings.baseAddress),
                UnsafeRawPointer(d.sampleLocationIndices.baseAddress), UnsafeRawPointer(d.sampleLocationStarts.baseAddress),
            ]
        }
        let first = try run()
        try SpecExample.pprof.withUnsafeBytes { try d.decode($0) }
        #expect(try run() == first)
    }
}
