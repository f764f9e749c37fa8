import BinaryCoding

extension PprofProfile {
    /// The profile as a Pyroscope v2 distributor forwards it to the segment writers (upstream's
    /// `pprof.Profile.Normalize`, run on every Push before routing): sample labels without a
    /// string value dropped; samples with a negative value, with no non-zero value, or through a
    /// location of neither lines nor address removed, and the symbols and strings only they used
    /// with them; samples ordered by a hash of their stack and labels, those with equal stacks
    /// and labels summed into one; locations without mapping given one stub mapping; addresses
    /// of symbolized mappings cleared. A Go profile (`language`) takes upstream's `FixGoProfile`
    /// first (`goFixed`). A cold path, for load generation and benchmarks: the writer itself takes
    /// whatever arrives, as upstream's does. Not done: sample-type relabelling (per-tenant rules).
    public func distributorNormalized() -> PprofProfile {
        var p = language == "go" ? goFixed() : self
        for i in p.samples.indices { p.samples[i].labels.removeAll { $0.str == 0 } }
        let emptyLocations = Set(p.locations.filter { $0.lines.isEmpty && $0.address == 0 }.map(\.id))
        let (kept, removed) = p.samples.reduce(into: ([Sample](), [Sample]())) { parts, s in
            let drop = s.values.contains { $0 < 0 } || s.values.allSatisfy { $0 == 0 }
                || s.locationIDs.contains(where: emptyLocations.contains)
            if drop { parts.1.append(s) } else { parts.0.append(s) }
        }
        p.samples = Self.mergedByHash(kept)
        p.removeSymbols(onlyUsedBy: removed)
        p.locations.removeAll { emptyLocations.contains($0.id) }
        p = p.withStubMapping()
        p.clearSymbolizedAddresses()
        return p
    }

    /// Stable order by the hash of (stack, labels); of equal hashes the last keeps the sum (as
    /// upstream, which trusts the hash).
    private static func mergedByHash(_ samples: [Sample]) -> [Sample] {
        let hashed = samples.map { s -> (UInt64, Sample) in
            var key = ByteWriter()
            for id in s.locationIDs { key.appendLE64(id) }
            for l in s.labels { key.appendLE64(UInt64(bitPattern: l.key)); key.appendLE64(UInt64(bitPattern: l.str)) }
            return (key.bytes.withUnsafeBytes { XXH64.hash($0, seed: 0) }, s)
        }.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        var out: [Sample] = []
        for (i, (hash, sample)) in hashed.enumerated() {
            var sample = sample
            if let previous = out.last, i > 0, hashed[i - 1].0 == hash, previous.values.count == sample.values.count {
                out.removeLast()
                for v in sample.values.indices { sample.values[v] &+= previous.values[v] }
            }
            out.append(sample)
        }
        return out
    }

    /// Locations only `removed` samples referenced, then functions only those locations used,
    /// then strings only those functions named (upstream's `clearSampleReferences`).
    private mutating func removeSymbols(onlyUsedBy removed: [Sample]) {
        var locations = Set(removed.flatMap(\.locationIDs))
        for s in samples { locations.subtract(s.locationIDs) }
        guard !locations.isEmpty else { return }
        var functions = Set(self.locations.filter { locations.contains($0.id) }.flatMap { $0.lines.map(\.functionID) })
        self.locations.removeAll { locations.contains($0.id) }
        for l in self.locations { functions.subtract(l.lines.map(\.functionID)) }
        guard !functions.isEmpty else { return }
        var strings = Set(self.functions.filter { functions.contains($0.id) }.flatMap { [$0.name, $0.systemName, $0.filename] })
        self.functions.removeAll { functions.contains($0.id) }
        visitStringReferences { _ = strings.remove($0) }
        strings.remove(0)
        guard !strings.isEmpty else { return }
        var newIndex = [Int64](repeating: 0, count: stringTable.count)
        var table: [ByteString] = []
        for (i, s) in stringTable.enumerated() where !strings.contains(Int64(i)) {
            newIndex[i] = Int64(table.count)
            table.append(s)
        }
        stringTable = table
        visitStringReferences { $0 = $0 >= 0 && Int($0) < newIndex.count ? newIndex[Int($0)] : $0 }
    }

    /// Every string index the profile holds.
    mutating func visitStringReferences(_ visit: (inout Int64) -> Void) {
        for i in sampleTypes.indices { visit(&sampleTypes[i].type); visit(&sampleTypes[i].unit) }
        if var period = periodType { visit(&period.type); visit(&period.unit); periodType = period }
        for i in comments.indices { visit(&comments[i]) }
        visit(&dropFrames)
        visit(&keepFrames)
        visit(&defaultSampleType)
        for i in mappings.indices { visit(&mappings[i].filename); visit(&mappings[i].buildID) }
        for i in functions.indices {
            visit(&functions[i].name); visit(&functions[i].systemName); visit(&functions[i].filename)
        }
        for s in samples.indices {
            for l in samples[s].labels.indices {
                visit(&samples[s].labels[l].key); visit(&samples[s].labels[l].str); visit(&samples[s].labels[l].numUnit)
            }
        }
    }

    /// The profile with its locations of mapping 0 pointing at one appended mapping of no
    /// fields, the one step of upstream's sanitizer the writer depends on (symdb.md §3.1: a
    /// profile split by sample labels needs every location mapped).
    public func withStubMapping() -> PprofProfile {
        guard locations.contains(where: { $0.mappingID == 0 }) else { return self }
        var p = self
        var stub = MappingRecord()
        stub.id = (mappings.map(\.id).max() ?? 0) + 1
        p.mappings.append(stub)
        for i in p.locations.indices where p.locations[i].mappingID == 0 { p.locations[i].mappingID = stub.id }
        return p
    }

    private mutating func clearSymbolizedAddresses() {
        var symbolized = Set<UInt64>()
        for i in mappings.indices where mappings[i].hasFunctions {
            mappings[i].memoryStart = 0
            mappings[i].memoryLimit = 0
            mappings[i].fileOffset = 0
            symbolized.insert(mappings[i].id)
        }
        for i in locations.indices where symbolized.contains(locations[i].mappingID) { locations[i].address = 0 }
    }
}
