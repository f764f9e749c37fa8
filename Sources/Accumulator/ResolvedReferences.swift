import BinaryCoding

/// Why a decoded profile cannot be ingested. Upstream panics on these inside the handler
/// (the Push fails with `UNKNOWN`); the head refuses them before touching any state. The
/// `PprofDecoder` already checks the same; this second pass keeps the head safe from a
/// caller that hands over an unresolved decoder.
enum ProfileRejection: Error, Equatable, Sendable {
    case stringIndexOutOfRange(field: String, index: Int64)
    case sampleValueCountMismatch(sample: Int, values: Int, sampleTypes: Int)
    case unknownLocation(sample: Int, locationID: UInt64)
    case unknownMapping(location: Int, mappingID: UInt64)
    case unknownFunction(location: Int, functionID: UInt64)
}

/// Per-push scratch: every id reference of a `ProfileInput` resolved to a source table
/// index and checked. Nothing here touches the accumulator, so a rejected profile leaves
/// it unchanged. Arrays keep their capacity between pushes.
struct ResolvedReferences {
    /// Source location index of each entry of `sampleLocationIDs`.
    var sampleLocation: [Int32] = []
    /// Source mapping index of each location, -1 for `mapping_id` 0.
    var locationMapping: [Int32] = []
    /// Source function index of each line (`function_id` 0 is rejected: symdb.md §3.1).
    var lineFunction: [Int32] = []
    private var idScratch: [UInt64: Int32] = [:]

    mutating func resolve(_ p: ProfileInput) throws(ProfileRejection) {
        try checkStrings(p)
        for s in 0 ..< p.sampleCount where Int(p.sampleValueCount[s]) != p.typeCount {
            throw .sampleValueCountMismatch(sample: s, values: Int(p.sampleValueCount[s]), sampleTypes: p.typeCount)
        }

        try resolveSampleLocations(p, dense: buildIDMap(p.locationID))

        locationMapping.removeAll(keepingCapacity: true)
        let mappings = buildIDMap(p.mappingID)
        for l in 0 ..< p.locationID.count {
            let id = p.locationMappingID[l]
            if id == 0 { locationMapping.append(-1); continue }
            guard let i = lookup(id, dense: mappings, count: p.mappingID.count) else {
                throw .unknownMapping(location: l, mappingID: id)
            }
            locationMapping.append(i)
        }

        lineFunction.removeAll(keepingCapacity: true)
        let functions = buildIDMap(p.functionID)
        for l in 0 ..< p.locationID.count {
            let start = Int(p.locationLineStart[l])
            for k in start ..< start + Int(p.locationLineCount[l]) {
                let id = p.lineFunctionID[k]
                guard let i = lookup(id, dense: functions, count: p.functionID.count) else {
                    throw .unknownFunction(location: l, functionID: id)
                }
                lineFunction.append(i)
            }
        }
    }

    /// Samples' location ids in sample order, written through a pointer into storage sized
    /// once (an `append` per id cost a uniqueness check each); the first unknown id throws.
    private mutating func resolveSampleLocations(_ p: ProfileInput, dense: Bool) throws(ProfileRejection) {
        let ids = p.sampleLocationIDs
        let count = p.locationID.count
        let map = idScratch
        sampleLocation.removeAll(keepingCapacity: true)
        sampleLocation.append(contentsOf: repeatElement(0, count: ids.count))
        var missing: Int?
        sampleLocation.withUnsafeMutableBufferPointer { out in
            var k = 0
            for s in 0 ..< p.sampleCount {
                let start = Int(p.sampleLocationStart[s])
                // Samples are laid out back to back (`ProfileInput.load`); `k` follows them.
                precondition(start == k, "sample location runs are contiguous")
                for _ in 0 ..< Int(p.sampleLocationCount[s]) {
                    guard let i = Self.lookup(ids[k], dense: dense, count: count, map) else {
                        missing = s
                        return
                    }
                    out[k] = i
                    k += 1
                }
            }
        }
        if let s = missing {
            let start = Int(p.sampleLocationStart[s])
            for k in start ..< start + Int(p.sampleLocationCount[s]) where Self.lookup(ids[k], dense: dense, count: count, map) == nil {
                throw .unknownLocation(sample: s, locationID: ids[k])
            }
        }
    }

    /// Dense ids (`id == index + 1`, what the distributor's sanitizer produces) need no
    /// map; otherwise ids go through a scratch dictionary where a later duplicate wins
    /// (symdb.md §3.3). Returns true when dense.
    private mutating func buildIDMap(_ ids: [UInt64]) -> Bool {
        var dense = true
        for (i, id) in ids.enumerated() where id != UInt64(i + 1) { dense = false; break }
        if dense { return true }
        idScratch.removeAll(keepingCapacity: true)
        for (i, id) in ids.enumerated() { idScratch[id] = Int32(i) }
        return false
    }

    private func lookup(_ id: UInt64, dense: Bool, count: Int) -> Int32? {
        Self.lookup(id, dense: dense, count: count, idScratch)
    }

    @inline(__always)
    private static func lookup(_ id: UInt64, dense: Bool, count: Int, _ map: [UInt64: Int32]) -> Int32? {
        if dense { return id >= 1 && id <= UInt64(count) ? Int32(id - 1) : nil }
        return map[id]
    }

    private func checkStrings(_ p: ProfileInput) throws(ProfileRejection) {
        let n = Int64(p.strings.count)
        func check(_ v: Int64, _ field: String) throws(ProfileRejection) {
            if v < 0 || v >= max(n, 1) { throw .stringIndexOutOfRange(field: field, index: v) }
        }
        for v in p.sampleTypeType { try check(v, "sample_type.type") }
        for v in p.sampleTypeUnit { try check(v, "sample_type.unit") }
        for v in p.labelKey { try check(v, "label.key") }
        for v in p.labelStr { try check(v, "label.str") }
        for v in p.labelNumUnit { try check(v, "label.num_unit") }
        for v in p.mappingFilename { try check(v, "mapping.filename") }
        for v in p.mappingBuildID { try check(v, "mapping.build_id") }
        for v in p.functionName { try check(v, "function.name") }
        for v in p.functionSystemName { try check(v, "function.system_name") }
        for v in p.functionFilename { try check(v, "function.filename") }
        for v in p.comments { try check(v, "comment") }
        try check(p.dropFrames, "drop_frames")
        try check(p.keepFrames, "keep_frames")
        if p.hasPeriodType {
            try check(p.periodTypeType, "period_type.type")
            try check(p.periodTypeUnit, "period_type.unit")
        }
    }
}
