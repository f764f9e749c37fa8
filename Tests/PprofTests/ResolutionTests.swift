import BinaryCoding
import Pprof
import Testing
import TestSupport

/// `resolveReferences()` (its branch-free passes for ids 1...n and their fall-backs) against a
/// plain resolver written from the rules: the same indices and string mask, or the same error,
/// for real profiles and for mutated ids (0, one past the table, above 32 bits, sparse,
/// duplicated) and string indices.
@Suite struct ResolutionTests {
    struct Resolved: Equatable {
        var sampleLocationIndices: [UInt32]
        var mappingIndices: [UInt32]
        var functionIndices: [UInt32]
        var symbolStringMask: [Bool]
    }

    /// The rules of `resolveReferences()` one element at a time, in its check order.
    static func reference(_ p: PprofProfile) -> Result<Resolved, PprofError> {
        for (i, s) in p.samples.enumerated() where s.values.count != p.sampleTypes.count {
            return .failure(.valueCountMismatch(sample: i, values: s.values.count, sampleTypes: p.sampleTypes.count))
        }
        let n = p.stringTable.count
        var fields: [(Int64, String)] = []
        for t in p.sampleTypes { fields += [(t.type, "sample_type.type"), (t.unit, "sample_type.unit")] }
        for s in p.samples {
            for l in s.labels { fields += [(l.key, "label.key"), (l.str, "label.str"), (l.numUnit, "label.num_unit")] }
        }
        for m in p.mappings { fields += [(m.filename, "mapping.filename"), (m.buildID, "mapping.build_id")] }
        for f in p.functions { fields += [(f.name, "function.name"), (f.systemName, "function.system_name"), (f.filename, "function.filename")] }
        for c in p.comments { fields.append((c, "comment")) }
        fields += [(p.dropFrames, "drop_frames"), (p.keepFrames, "keep_frames")]
        if let t = p.periodType { fields += [(t.type, "period_type.type"), (t.unit, "period_type.unit")] }
        for (i, field) in fields where !(i == 0 || (i > 0 && i < n)) {
            return .failure(.stringIndexOutOfRange(field: field, index: i, stringCount: n))
        }
        // Duplicate ids resolve to the later entry.
        var mappingIndex: [UInt64: UInt32] = [:], functionIndex: [UInt64: UInt32] = [:], locationIndex: [UInt64: UInt32] = [:]
        for (i, m) in p.mappings.enumerated() { mappingIndex[m.id] = UInt32(i) }
        for (i, f) in p.functions.enumerated() { functionIndex[f.id] = UInt32(i) }
        for (i, l) in p.locations.enumerated() { locationIndex[l.id] = UInt32(i) }
        var out = Resolved(sampleLocationIndices: [], mappingIndices: [], functionIndices: [], symbolStringMask: [])
        for (i, l) in p.locations.enumerated() {
            if l.mappingID == 0 {
                out.mappingIndices.append(LocationRecord.noMapping)
            } else {
                guard let m = mappingIndex[l.mappingID] else { return .failure(.missingMapping(location: i, mappingID: l.mappingID)) }
                out.mappingIndices.append(m)
            }
            for line in l.lines {
                guard let f = functionIndex[line.functionID] else { return .failure(.missingFunction(location: i, functionID: line.functionID)) }
                out.functionIndices.append(f)
            }
        }
        for (s, sample) in p.samples.enumerated() {
            for id in sample.locationIDs {
                guard let l = locationIndex[id] else { return .failure(.missingLocation(sample: s, locationID: id)) }
                out.sampleLocationIndices.append(l)
            }
        }
        var mask = [Bool](repeating: false, count: n)
        var kept: [Int64] = p.sampleTypes.flatMap { [$0.type, $0.unit] } + p.comments + [p.dropFrames, p.keepFrames]
        kept += p.functions.flatMap { [$0.name, $0.systemName, $0.filename] } + p.mappings.flatMap { [$0.filename, $0.buildID] }
        for i in kept where n > 0 { mask[Int(i)] = true }
        out.symbolStringMask = mask
        return .success(out)
    }

    static func resolved(_ p: PprofProfile, _ d: PprofDecoder) -> Result<Resolved, PprofError> {
        PprofEncoder.encode(p).withUnsafeBytes { raw in
            do throws(PprofError) {
                try d.decode(raw)
                try d.resolveReferences()
            } catch {
                return .failure(error)
            }
            return .success(Resolved(sampleLocationIndices: Array(d.sampleLocationIndices), mappingIndices: d.locations.map(\.mappingIndex),
                                     functionIndices: d.lines.map(\.functionIndex), symbolStringMask: d.symbolStringMask))
        }
    }

    static func corpusProfile(_ name: String) throws -> PprofProfile {
        try decodeProfile(try corpusFile(name), resolve: false)
    }

    @Test(arguments: CorpusCounts.all.map(\.name))
    func corpusFileResolvesAsTheReferenceDoes(_ name: String) throws {
        let p = try Self.corpusProfile(name)
        #expect(Self.resolved(p, PprofDecoder()) == Self.reference(p))
    }

    /// One id or string index of a real profile changed to a value each pass must catch (or
    /// let through), many times over; one decoder for all, so a refusal must not leak into the
    /// next profile.
    @Test(arguments: ["pyspy-1.pb.gz", "profile_nodejs", "single_group_with_optional_span_id.pb.gz", "profile_rust"])
    func mutatedReferencesResolveAsTheReferenceDoes(_ name: String) throws {
        let base = try Self.corpusProfile(name)
        let d = PprofDecoder()
        var rng = SplitMix64(seed: UInt64(name.utf8.count) &* 0x9E37_79B9)
        for i in 0 ..< 200 {
            var p = base
            for _ in 0 ... Int.random(in: 0 ..< 3, using: &rng) { Self.mutate(&p, &rng) }
            #expect(Self.resolved(p, d) == Self.reference(p), "mutation \(i) of \(name)")
        }
    }

    /// Ids that pass or fail at the edges of the branch-free checks.
    static func edgeID(_ count: Int, _ rng: inout SplitMix64) -> UInt64 {
        let c = UInt64(count)
        return [0, 1, c, c + 1, c &- 1, 1 << 31, 1 << 32, (1 << 32) + 1, UInt64.max, UInt64(Int64.max) + 1][Int.random(in: 0 ..< 10, using: &rng)]
    }

    static func edgeString(_ count: Int, _ rng: inout SplitMix64) -> Int64 {
        let c = Int64(count)
        return [0, -1, c - 1, c, c + 1, Int64.min, Int64.max][Int.random(in: 0 ..< 7, using: &rng)]
    }

    static func mutate(_ p: inout PprofProfile, _ rng: inout SplitMix64) {
        switch Int.random(in: 0 ..< 7, using: &rng) {
        case 0 where !p.samples.isEmpty:
            let s = Int.random(in: p.samples.indices, using: &rng)
            guard !p.samples[s].locationIDs.isEmpty else { return }
            p.samples[s].locationIDs[Int.random(in: p.samples[s].locationIDs.indices, using: &rng)] = edgeID(p.locations.count, &rng)
        case 1 where !p.locations.isEmpty:
            p.locations[Int.random(in: p.locations.indices, using: &rng)].mappingID = edgeID(p.mappings.count, &rng)
        case 2 where !p.locations.isEmpty:
            let l = Int.random(in: p.locations.indices, using: &rng)
            guard !p.locations[l].lines.isEmpty else { return }
            p.locations[l].lines[Int.random(in: p.locations[l].lines.indices, using: &rng)].functionID = edgeID(p.functions.count, &rng)
        case 3 where !p.functions.isEmpty:
            let f = Int.random(in: p.functions.indices, using: &rng)
            switch Int.random(in: 0 ..< 3, using: &rng) {
            case 0: p.functions[f].name = edgeString(p.stringTable.count, &rng)
            case 1: p.functions[f].systemName = edgeString(p.stringTable.count, &rng)
            default: p.functions[f].filename = edgeString(p.stringTable.count, &rng)
            }
        case 4:
            // A sparse or duplicated table: one id of each kind changed (sample ids keep
            // naming the old id, so they may go missing).
            if !p.locations.isEmpty { p.locations[Int.random(in: p.locations.indices, using: &rng)].id = edgeID(p.locations.count, &rng) }
            if !p.functions.isEmpty { p.functions[Int.random(in: p.functions.indices, using: &rng)].id = edgeID(p.functions.count, &rng) }
            if !p.mappings.isEmpty { p.mappings[Int.random(in: p.mappings.indices, using: &rng)].id = edgeID(p.mappings.count, &rng) }
        case 5 where !p.samples.isEmpty:
            let s = Int.random(in: p.samples.indices, using: &rng)
            guard !p.samples[s].labels.isEmpty else { return }
            p.samples[s].labels[Int.random(in: p.samples[s].labels.indices, using: &rng)].str = edgeString(p.stringTable.count, &rng)
        default:
            // Every id renumbered from 2 (a dense table shifted by one: no map, all out by one).
            for i in p.locations.indices { p.locations[i].id &+= 1 }
            for s in p.samples.indices { p.samples[s].locationIDs = p.samples[s].locationIDs.map { $0 &+ 1 } }
        }
    }

    @Test func mappingIDZeroAndTheLastMappingResolveInTheDensePass() throws {
        var p = PprofProfile()
        p.sampleTypes = [ValueTypeRef(type: 1, unit: 2)]
        p.stringTable = ["", "cpu", "ns", "f"]
        var m = MappingRecord()
        m.id = 1
        var m2 = MappingRecord()
        m2.id = 2
        p.mappings = [m, m2]
        var f = FunctionRecord()
        f.id = 1
        f.name = 3
        p.functions = [f]
        p.locations = [.init(id: 1, mappingID: 0, lines: [LineRecord(functionID: 1)]), .init(id: 2, mappingID: 2, lines: []),
                       .init(id: 3, mappingID: 1, lines: [LineRecord(functionID: 1), LineRecord(functionID: 1)])]
        p.samples = [.init(locationIDs: [3, 2, 1], values: [1])]
        let r = Self.resolved(p, PprofDecoder())
        #expect(r == Self.reference(p))
        #expect(try r.get().mappingIndices == [LocationRecord.noMapping, 1, 0])
        p.locations[1].mappingID = 3
        #expect(Self.resolved(p, PprofDecoder()) == .failure(.missingMapping(location: 1, mappingID: 3)))
        p.locations[1].mappingID = 2
        p.locations[2].lines[1].functionID = 0
        #expect(Self.resolved(p, PprofDecoder()) == .failure(.missingFunction(location: 2, functionID: 0)))
        p.locations[2].lines[1].functionID = (1 << 32) + 1
        #expect(Self.resolved(p, PprofDecoder()) == .failure(.missingFunction(location: 2, functionID: (1 << 32) + 1)))
    }
}
