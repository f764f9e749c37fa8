/// Reference checks and id resolution: what ingestion relies on and upstream does not check
/// (it panics or indexes out of range instead; symdb.md §3.1, profiles-parquet.md §2.3).
/// No fix-ups happen here: normalisation is the distributor's (ingest-and-ops.md §2.2).
extension PprofDecoder {
    /// Checks every sample has one value per sample type, every string index is inside the
    /// string table, and every id reference names an existing entry (a location's `mapping_id`
    /// 0 means "none" and stays allowed, symdb.md §3.5). Fills `sampleLocationIndices`,
    /// `LocationRecord.mappingIndex`, `LineRecord.functionIndex` and `symbolStringMask`.
    /// Duplicate ids resolve to the later entry (symdb.md §3.3).
    public func resolveReferences() throws(PprofError) {
        try tables.resolveReferences()
    }
}

extension PprofTables {
    mutating func resolveReferences() throws(PprofError) {
        try checkValueCounts()
        try checkStrings()
        try checkProfileTypeStrings()
        Self.buildIndex(mappings, id: { $0.id }, into: &mappingIndexByID)
        Self.buildIndex(functions, id: { $0.id }, into: &functionIndexByID)
        Self.buildIndex(locations, id: { $0.id }, into: &locationIndexByID)
        try resolveLocations()
        try resolveSamples()
        markSymbolStrings()
        referencesResolved = true
    }

    /// A branch-free pass first (the compiler vectorises it); the loop that names the first
    /// offending sample runs only when that pass saw one.
    private func checkValueCounts() throws(PprofError) {
        let expected = sampleTypes.count
        let starts = sampleValueStarts
        var differs: UInt32 = 0
        for i in 0 ..< starts.count - 1 { differs |= (starts[i + 1] &- starts[i]) ^ UInt32(truncatingIfNeeded: expected) }
        if differs == 0 && expected <= Int(UInt32.max) { return }
        for i in 0 ..< sampleCount {
            let n = Int(sampleValueStarts[i + 1] - sampleValueStarts[i])
            guard n == expected else { throw .valueCountMismatch(sample: i, values: n, sampleTypes: expected) }
        }
    }

    private func checkStrings() throws(PprofError) {
        let n = Int64(strings.count)
        // Index 0 is the conventional "" and stays valid even in an empty table.
        func check(_ i: Int64, _ field: StaticString) throws(PprofError) {
            guard i == 0 || (i > 0 && i < n) else { throw .stringIndexOutOfRange(field: "\(field)", index: i, stringCount: Int(n)) }
        }
        for t in sampleTypes {
            try check(t.type, "sample_type.type")
            try check(t.unit, "sample_type.unit")
        }
        // The labels and functions hold most of the indices: checked branch-free first, one
        // by one (naming the first bad one) only when that saw one.
        let last = UInt64(max(strings.count, 1) - 1)
        if !Self.labelStringsInRange(sampleLabels, last: last) {
            for l in sampleLabels {
                try check(l.key, "label.key")
                try check(l.str, "label.str")
                try check(l.numUnit, "label.num_unit")
            }
        }
        for m in mappings {
            try check(m.filename, "mapping.filename")
            try check(m.buildID, "mapping.build_id")
        }
        if !Self.functionStringsInRange(functions, last: last) {
            for f in functions {
                try check(f.name, "function.name")
                try check(f.systemName, "function.system_name")
                try check(f.filename, "function.filename")
            }
        }
        for c in comments { try check(c, "comment") }
        try check(dropFrames, "drop_frames")
        try check(keepFrames, "keep_frames")
        if let p = periodType {
            try check(p.type, "period_type.type")
            try check(p.unit, "period_type.unit")
        }
    }

    /// The sample and period types name the profile types, which the segment's metadata lists
    /// (`Dataset.labels`, segment-object.md §6): a proto3 string there that is not UTF-8 makes
    /// the whole `BlockMeta` undecodable to the metastore's gRPC codec, so the AddBlock of every
    /// tenant's data in that segment fails. Upstream's writer takes such a profile (its
    /// distributors refuse it); ours refuses it. Other pprof strings stay raw bytes, as upstream
    /// keeps them.
    private func checkProfileTypeStrings() throws(PprofError) {
        func check(_ i: Int64, _ field: StaticString) throws(PprofError) {
            guard isValidUTF8(string(i)) else { throw .invalidUTF8(field: "\(field)", index: i) }
        }
        for t in sampleTypes {
            try check(t.type, "sample_type.type")
            try check(t.unit, "sample_type.unit")
        }
        if let p = periodType {
            try check(p.type, "period_type.type")
            try check(p.unit, "period_type.unit")
        }
    }

    /// Whether every label's key, str and num_unit is 0 or inside a table whose last index is
    /// `last` (index 0 is valid even in an empty table: `last` is then 0).
    private static func labelStringsInRange(_ labels: UnsafeBufferPointer<SampleLabel>, last: UInt64) -> Bool {
        var outside: UInt64 = 0
        for l in labels { outside |= Self.outside(l.key, last) | Self.outside(l.str, last) | Self.outside(l.numUnit, last) }
        return outside >> 63 == 0
    }

    /// Whether every function's name, system_name and filename is inside the table (as above).
    private static func functionStringsInRange(_ functions: UnsafeBufferPointer<FunctionRecord>, last: UInt64) -> Bool {
        var outside: UInt64 = 0
        for f in functions { outside |= Self.outside(f.name, last) | Self.outside(f.systemName, last) | Self.outside(f.filename, last) }
        return outside >> 63 == 0
    }

    /// Top bit set when `index` is negative or above `last` (as unsigned, last − index wraps).
    @inline(__always)
    private static func outside(_ index: Int64, _ last: UInt64) -> UInt64 {
        let u = UInt64(bitPattern: index)
        return u | (last &- u)
    }

    /// Ids 1...n in table order (what the distributor's sanitiser produces) need no map.
    private static func buildIndex<T: Collection>(_ table: T, id: (T.Element) -> UInt64, into map: inout [UInt64: UInt32]) where T.Index == Int {
        map.removeAll(keepingCapacity: true)
        var dense = true
        for i in table.indices where id(table[i]) != UInt64(i + 1) {
            dense = false
            break
        }
        guard !dense else { return }
        for i in table.indices { map[id(table[i])] = UInt32(i) }
    }

    @inline(__always)
    private static func lookup(_ id: UInt64, count: Int, _ map: [UInt64: UInt32]) -> UInt32? {
        if map.isEmpty { return id >= 1 && id <= UInt64(count) ? UInt32(id - 1) : nil }
        return map[id]
    }

    /// Writes through the storage the `locations` and `lines` views show. With both tables'
    /// ids 1...n (no map) every location and line resolves in one branch-free pass each;
    /// the loop that names the first missing id runs only when one of those saw one.
    private mutating func resolveLocations() throws(PprofError) {
        if mappingIndexByID.isEmpty && functionIndexByID.isEmpty && resolveDenseLocations() { return }
        try resolveLocationsOneByOne()
    }

    /// Index = id − 1 for every location's mapping and every line's function, and whether all
    /// were in range: a `mapping_id` is valid when ≤ the mapping count (0 is "none", and
    /// 0 − 1 truncates to `noMapping`); a `function_id` when id − 1 < the function count (as
    /// unsigned: 0 wraps). Every line belongs to one location (`decode`), so the lines are one
    /// flat pass. Out-of-range values leave garbage that `resolveLocationsOneByOne` overwrites
    /// before throwing.
    private mutating func resolveDenseLocations() -> Bool {
        let locations = staging.locations.mutableElements, lines = staging.lines.mutableElements
        var highestMapping: UInt64 = 0
        for i in locations.indices {
            let id = locations[i].mappingID
            locations[i].mappingIndex = UInt32(truncatingIfNeeded: id &- 1)
            highestMapping = max(highestMapping, id)
        }
        var highestFunction: UInt64 = 0
        for k in lines.indices {
            let index = lines[k].functionID &- 1
            lines[k].functionIndex = UInt32(truncatingIfNeeded: index)
            highestFunction = max(highestFunction, index)
        }
        return highestMapping <= UInt64(mappings.count) && (lines.isEmpty || highestFunction < UInt64(functions.count))
    }

    private mutating func resolveLocationsOneByOne() throws(PprofError) {
        let mappingCount = mappings.count, functionCount = functions.count
        let mappingMap = mappingIndexByID, functionMap = functionIndexByID
        let locations = staging.locations.mutableElements, lines = staging.lines.mutableElements
        for i in locations.indices {
            let mappingID = locations[i].mappingID
            if mappingID == 0 {
                locations[i].mappingIndex = LocationRecord.noMapping
            } else {
                guard let m = Self.lookup(mappingID, count: mappingCount, mappingMap) else {
                    throw .missingMapping(location: i, mappingID: mappingID)
                }
                locations[i].mappingIndex = m
            }
            // `decode` keeps every location's lines inside `lines`.
            let start = Int(locations[i].lineStart)
            for k in start ..< start + Int(locations[i].lineCount) {
                guard let f = Self.lookup(lines[k].functionID, count: functionCount, functionMap) else {
                    throw .missingFunction(location: i, functionID: lines[k].functionID)
                }
                lines[k].functionIndex = f
            }
        }
    }

    /// Fills `sampleLocationIndices`, written through a pointer into its storage (growing an
    /// array with zeros first cost a memset, and an `append` per id a uniqueness check each).
    private mutating func resolveSamples() throws(PprofError) {
        staging.locationIndices.count = 0
        sampleLocationIndices = staging.locationIndices.elements
        let n = sampleLocationIDs.count
        guard n > 0 else { return }
        staging.locationIndices.reserve(n)
        let out = staging.locationIndices.end
        let count = locations.count
        let map = locationIndexByID
        let ids = sampleLocationIDs
        if let k = map.isEmpty ? Self.resolveDense(ids, count: count, into: out) : Self.resolveSparse(ids, map, count: count, into: out) {
            var sample = 0
            while sampleLocationStarts[sample + 1] <= UInt32(k) { sample += 1 }
            throw .missingLocation(sample: sample, locationID: sampleLocationIDs[k])
        }
        staging.locationIndices.count = n
        sampleLocationIndices = staging.locationIndices.elements
    }

    /// Ids 1...count: index = id − 1, in one branch-free pass the compiler vectorises; the
    /// first missing id is looked for only when the pass saw one. The ids are read as 32-bit
    /// halves (an index fits in 32 bits, so any high half but 0 is missing): 64-bit lanes
    /// cost twice as many SSE2 instructions.
    private static func resolveDense(_ ids: UnsafeBufferPointer<UInt64>, count: Int, into out: UnsafeMutablePointer<UInt32>) -> Int? {
        // A location takes at least two bytes of a profile below 4 GiB.
        precondition(count <= 1 << 31, "location count outside the 32-bit index range")
        let last = UInt32(truncatingIfNeeded: count &- 1)
        var high: UInt32 = 0
        var outside: UInt32 = 0
        #if _endian(little)
        ids.withMemoryRebound(to: UInt32.self) { halves in
            for k in 0 ..< ids.count {
                let l = halves[2 &* k] &- 1
                high |= halves[2 &* k &+ 1]
                // Top bit set when l ≥ 2^31 (id 0 or huge) or l > last (then last − l wraps).
                outside |= l | (last &- l)
                out[k] = l
            }
        }
        #else
        for k in 0 ..< ids.count {
            let l = UInt32(truncatingIfNeeded: ids[k] &- 1)
            high |= UInt32(truncatingIfNeeded: (ids[k] &- 1) >> 32)
            outside |= l | (last &- l)
            out[k] = l
        }
        #endif
        guard high != 0 || outside >> 31 != 0 else { return nil }
        return ids.firstIndex { $0 &- 1 >= UInt64(count) }
    }

    private static func resolveSparse(_ ids: UnsafeBufferPointer<UInt64>, _ map: [UInt64: UInt32], count: Int,
                                      into out: UnsafeMutablePointer<UInt32>) -> Int? {
        for k in 0 ..< ids.count {
            guard let l = lookup(ids[k], count: count, map) else { return k }
            out[k] = l
        }
        return nil
    }

    /// symdb.md §3.2 (`ZeroLabelStrings`): marks the indices the head keeps.
    private mutating func markSymbolStrings() {
        symbolStringMask.removeAll(keepingCapacity: true)
        // One extra slot so index 0 of an empty table needs no branch; trimmed below.
        symbolStringMask.append(contentsOf: repeatElement(false, count: max(strings.count, 1)))
        // Indices were range-checked by `checkStrings`.
        for t in sampleTypes {
            symbolStringMask[Int(t.type)] = true
            symbolStringMask[Int(t.unit)] = true
        }
        // The functions hold most of them: written through a pointer (no uniqueness check each).
        let functions = functions
        symbolStringMask.withUnsafeMutableBufferPointer { mask in
            for f in functions {
                mask[Int(f.name)] = true
                mask[Int(f.systemName)] = true
                mask[Int(f.filename)] = true
            }
        }
        for m in mappings {
            symbolStringMask[Int(m.filename)] = true
            symbolStringMask[Int(m.buildID)] = true
        }
        for c in comments { symbolStringMask[Int(c)] = true }
        symbolStringMask[Int(keepFrames)] = true
        symbolStringMask[Int(dropFrames)] = true
        if strings.isEmpty { symbolStringMask.removeAll(keepingCapacity: true) }
    }
}
