import BinaryCoding
import Pprof
import Testing

/// What `resolveReferences()` refuses, and what it must let through unchanged.
@Suite struct ReferenceTests {
    static var base: PprofProfile { try! decodeProfile(SpecExample.pprof) }

    static func resolveError(_ p: PprofProfile) -> PprofError? {
        let d = PprofDecoder()
        return PprofEncoder.encode(p).withUnsafeBytes { raw -> PprofError? in
            do throws(PprofError) {
                try d.decode(raw)
                try d.resolveReferences()
                return nil
            } catch {
                return error
            }
        }
    }

    @Test func specExampleResolves() { #expect(Self.resolveError(Self.base) == nil) }

    @Test func missingLocationIsRefused() {
        var p = Self.base
        p.samples[0].locationIDs = [1, 9]
        #expect(Self.resolveError(p) == .missingLocation(sample: 0, locationID: 9))
    }

    @Test func missingFunctionIsRefused() {
        var p = Self.base
        p.locations[0].lines.append(LineRecord(functionID: 5))
        #expect(Self.resolveError(p) == .missingFunction(location: 0, functionID: 5))
    }

    @Test func mappingIDZeroMeansNoneButAMissingMappingIsRefused() {
        var p = Self.base
        #expect(Self.resolveError(p) == nil) // location has mapping_id 0 and there are no mappings
        p.locations[0].mappingID = 4
        #expect(Self.resolveError(p) == .missingMapping(location: 0, mappingID: 4))
    }

    @Test func valueCountMustMatchSampleTypes() {
        var p = Self.base
        p.samples[0].values.append(1)
        #expect(Self.resolveError(p) == .valueCountMismatch(sample: 0, values: 2, sampleTypes: 1))
    }

    @Test func stringIndicesMustBeInRange() {
        var p = Self.base
        p.functions[0].name = 4
        #expect(Self.resolveError(p) == .stringIndexOutOfRange(field: "function.name", index: 4, stringCount: 4))
        p = Self.base
        p.samples[0].labels = [SampleLabel(key: 1, str: -1)]
        #expect(Self.resolveError(p) == .stringIndexOutOfRange(field: "label.str", index: -1, stringCount: 4))
    }

    /// Upstream's writer only copies `default_sample_type` into the row (it never reads the
    /// string it names), so any value is taken.
    @Test func defaultSampleTypeIsNotChecked() {
        var p = Self.base
        for value: Int64 in [7, 99, -1] {
            p.defaultSampleType = value
            #expect(Self.resolveError(p) == nil)
        }
    }

    /// Sample and period type strings name profile types in the segment's metadata, where a
    /// protobuf runtime refuses a string that is not UTF-8; every other string stays raw bytes.
    @Test func profileTypeStringsMustBeUTF8() {
        let notUTF8 = ByteString([0x63, 0xC0, 0xAF])  // an overlong "/"
        var p = Self.base
        p.stringTable.append(notUTF8)
        let bad = Int64(p.stringTable.count - 1)
        var q = p
        q.functions[0].name = bad
        #expect(Self.resolveError(q) == nil)
        q = p
        q.sampleTypes[0].type = bad
        #expect(Self.resolveError(q) == .invalidUTF8(field: "sample_type.type", index: bad))
        q = p
        q.sampleTypes[0].unit = bad
        #expect(Self.resolveError(q) == .invalidUTF8(field: "sample_type.unit", index: bad))
        q = p
        q.periodType = ValueTypeRef(type: 1, unit: bad)
        #expect(Self.resolveError(q) == .invalidUTF8(field: "period_type.unit", index: bad))
        #expect(PushError(PprofError.invalidUTF8(field: "period_type.unit", index: bad)).statusCode == GRPCStatusCode.invalidArgument)
    }

    /// The branch-free pre-checks (label strings, value counts) let every valid index through
    /// and still name the first bad one, wherever it is.
    @Test func labelStringBoundsAndLaterValueCountsAreChecked() {
        var p = Self.base
        let n = Int64(p.stringTable.count)
        p.samples[0].labels = [SampleLabel(key: n - 1, str: 0, num: -5, numUnit: n - 1)]
        #expect(Self.resolveError(p) == nil)
        p.samples.append(.init(locationIDs: [1], values: [1], labels: [SampleLabel(key: 1, str: 1), SampleLabel(key: n)]))
        #expect(Self.resolveError(p) == .stringIndexOutOfRange(field: "label.key", index: n, stringCount: Int(n)))
        p.samples[1].labels = [SampleLabel(key: 1, numUnit: Int64.min)]
        #expect(Self.resolveError(p) == .stringIndexOutOfRange(field: "label.num_unit", index: Int64.min, stringCount: Int(n)))
        p.samples[1].labels = []
        p.samples[1].values = []
        #expect(Self.resolveError(p) == .valueCountMismatch(sample: 1, values: 0, sampleTypes: 1))
    }

    @Test func sparseAndDuplicateIDsResolveToTheLaterEntry() throws {
        var p = Self.base
        p.functions = [FunctionRecord(), FunctionRecord()]
        p.functions[0].id = 70
        p.functions[0].name = 1
        p.functions[1].id = 70
        p.functions[1].name = 3
        p.locations[0].id = 500
        p.locations[0].lines = [LineRecord(functionID: 70)]
        p.samples[0].locationIDs = [500, 500]
        #expect(Self.resolveError(p) == nil)
        let d = PprofDecoder()
        try PprofEncoder.encode(p).withUnsafeBytes { raw in
            try d.decode(raw)
            try d.resolveReferences()
        }
        #expect(d.lines[0].functionIndex == 1)
        #expect(Array(d.locationIndices(ofSample: 0)) == [0, 0])
    }

    /// symdb.md §3.2: label, period-type and unreferenced strings are blanked by the head.
    @Test func symbolStringMaskFollowsZeroLabelStrings() throws {
        var p = PprofProfile()
        let cpu = p.intern("cpu"), ns = p.intern("nanoseconds")
        let key = p.intern("thread"), value = p.intern("main-thread")
        let fn = p.intern("main"), file = p.intern("main.go")
        let unused = p.intern("unused"), comment = p.intern("note")
        let wall = p.intern("wall")
        p.sampleTypes = [ValueTypeRef(type: cpu, unit: ns)]
        p.periodType = ValueTypeRef(type: wall, unit: ns)
        p.comments = [comment]
        var f = FunctionRecord()
        f.id = 1
        f.name = fn
        f.filename = file
        p.functions = [f]
        p.locations = [.init(id: 1, lines: [LineRecord(functionID: 1)])]
        p.samples = [.init(locationIDs: [1], values: [5], labels: [SampleLabel(key: key, str: value)])]
        let d = PprofDecoder()
        try PprofEncoder.encode(p).withUnsafeBytes { raw in
            try d.decode(raw)
            try d.resolveReferences()
            // String views point into `raw`: read them while it lives.
            #expect(d.firstStringIndex(of: UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
            #expect(Array("main".utf8).withUnsafeBytes { d.firstStringIndex(of: $0) } == Int(fn))
        }
        var expected = Array(repeating: false, count: p.stringTable.count)
        for i in [0, cpu, ns, fn, file, comment] { expected[Int(i)] = true }
        #expect(d.symbolStringMask == expected)
        #expect(!d.symbolStringMask[Int(unused)] && !d.symbolStringMask[Int(wall)] && !d.symbolStringMask[Int(key)])
    }

    @Test func unpackedRepeatedScalarsDecodeLikePacked() throws {
        var w = ByteWriter()
        w.appendMessageField(1) { $0.appendVarintField(1, 1) }
        w.appendMessageField(2) {
            $0.appendVarintField(1, 1) // location_id, unpacked
            $0.appendVarintField(2, 3) // value, unpacked
            $0.appendPackedVarints(1, [1, 1] as [UInt64]) // then a packed run
        }
        w.appendMessageField(4) { $0.appendVarintField(1, 1) }
        w.appendBytesField(6, [])
        w.appendBytesField(6, Array("x".utf8))
        w.appendVarintField(13, 1) // comment, unpacked
        w.appendPackedVarints(13, [1] as [UInt64])
        let p = try decodeProfile(w.bytes)
        #expect(p.samples == [.init(locationIDs: [1, 1, 1], values: [3])])
        #expect(p.comments == [1, 1])
    }

    @Test func repeatedPeriodTypeMergesLikeGo() throws {
        var w = ByteWriter()
        w.appendBytesField(6, [])
        w.appendBytesField(6, Array("a".utf8))
        w.appendBytesField(6, Array("b".utf8))
        w.appendMessageField(11) { $0.appendVarintField(1, 1) }
        w.appendMessageField(11) { $0.appendVarintField(2, 2) }
        #expect(try decodeProfile(w.bytes).periodType == ValueTypeRef(type: 1, unit: 2))
    }
}

@Suite struct WireErrorTests {
    /// Errors name the nested message path and carry an offset absolute in the profile bytes.
    @Test func nestedErrorHasAbsoluteOffsetAndPath() throws {
        var w = ByteWriter()
        w.appendBytesField(6, [])
        w.appendMessageField(2) {
            $0.appendVarintField(1, 1)
            $0.appendMessageField(3) { $0.appendBytesField(1, [9]) } // Label.key as bytes
        }
        let d = PprofDecoder()
        let error = w.bytes.withUnsafeBytes { raw -> PprofError? in
            do throws(PprofError) {
                try d.decode(raw)
                return nil
            } catch {
                return error
            }
        }
        guard case .wire(let e) = try #require(error) else {
            Issue.record("expected a wire error, got \(String(describing: error))")
            return
        }
        #expect(e.context == ["pprof Profile", "Sample", "Label"])
        // 0a00 | 12 07 | 08 01 | 1a 03 | 0a 01 09: the Label's field key is at 8, read up to 9.
        #expect(e.offset == 9)
        #expect(e.message == "proto: wrong wireType = 2 for field 1")
    }
}
