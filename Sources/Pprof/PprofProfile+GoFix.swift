import BinaryCoding

// What a Pyroscope v2 distributor does to a Go profile before `Normalize` (upstream's
// `pprof.FixGoProfile`): drop the type parameters a generic function's name carries (then merge
// the profile with itself, as equal names now make equal functions), and rebuild the stacks the
// Go runtime truncated (heap profiles at 32 frames, CPU profiles at 64) from the other stacks of
// the profile. A cold path, for load generation: the writer takes whatever arrives.

extension PprofProfile {
    /// The language upstream's `pprof.GetLanguage` infers from the string table: the first
    /// string with a known prefix or suffix, languages tried in this order. "unknown" otherwise.
    public var language: String {
        for s in stringTable {
            for (language, patterns) in Self.languagePatterns {
                for pattern in patterns where s.bytes.starts(with: pattern.utf8) || Self.ends(s.bytes, with: pattern.utf8) {
                    return language
                }
            }
        }
        return "unknown"
    }

    private static func ends(_ bytes: [UInt8], with suffix: String.UTF8View) -> Bool {
        bytes.count >= suffix.count && bytes[(bytes.count - suffix.count)...].elementsEqual(suffix)
    }

    private static let languagePatterns: [(String, [String])] = [
        ("go", [".go", "/usr/local/go/"]),
        ("java", ["java/", "sun/"]),
        ("ruby", [".rb", "gems/"]),
        ("nodejs", ["./node_modules/", ".js"]),
        ("dotnet", ["System.", "Microsoft."]),
        ("python", [".py"]),
        ("rust", ["main.rs", "core.rs"]),
    ]

    /// The profile as upstream's `FixGoProfile` leaves it: type parameters dropped (and the
    /// profile merged with itself when a name changed), then truncated stacks repaired when
    /// the profile may hold some. The distributor normalizes the result.
    public func goFixed() -> PprofProfile {
        var p = self
        var renamed = false
        for i in p.stringTable.indices {
            let dropped = Self.droppingGoTypeParameters(p.stringTable[i])
            if dropped != p.stringTable[i] {
                p.stringTable[i] = dropped
                renamed = true
            }
        }
        if renamed { p = p.mergedWithItself() }
        if p.mayHaveTruncatedGoStacks { p.repairTruncatedGoStacks() }
        return p
    }

    // MARK: Type parameters

    private static let goShape = Array("[go.shape.".utf8)

    /// `name` without the bracketed type parameters that start with `[go.shape.` (Go 1.21+
    /// may name any instance of a generic function at any call site: golang/go#64528). An
    /// unclosed bracket keeps the rest, upstream's way: the text before it written twice.
    static func droppingGoTypeParameters(_ name: ByteString) -> ByteString {
        let input = name.bytes
        guard let first = firstShape(in: input, from: 0) else { return name }
        var result: [UInt8] = []
        var i = 0
        var start: Int? = first
        while let s = start {
            result += input[i ..< s]
            var depth = 0
            var closed: Int?
            for j in s ..< input.count {
                if input[j] == UInt8(ascii: "[") { depth += 1 }
                if input[j] == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { closed = j; break }
                }
            }
            guard let end = closed else {
                result += input[i...]
                return ByteString(result)
            }
            i = end + 1
            start = firstShape(in: input, from: i)
        }
        result += input[i...]
        return ByteString(result)
    }

    private static func firstShape(in input: [UInt8], from start: Int) -> Int? {
        guard input.count - start >= goShape.count else { return nil }
        for s in start ... input.count - goShape.count where input[s] == goShape[0] && input[s ..< s + goShape.count].elementsEqual(goShape) {
            return s
        }
        return nil
    }

    // MARK: Merging with itself

    /// Upstream's `ProfileMerge` of the profile alone: strings, functions, mappings, locations
    /// and samples deduplicated in order of first occurrence (a sample's values summed into the
    /// first), ids renumbered 1...n. Keys as upstream's: a function by its strings and start
    /// line; a mapping by its size (rounded up to 4 KiB), offset and build id (else file name);
    /// a location by address, mapping and lines; a sample by stack and labels.
    func mergedWithItself() -> PprofProfile {
        var p = self
        var stringIndex: [ByteString: Int64] = [:]
        var strings: [ByteString] = []
        let stringMap = stringTable.map { s -> Int64 in
            if let i = stringIndex[s] { return i }
            stringIndex[s] = Int64(strings.count)
            strings.append(s)
            return Int64(strings.count - 1)
        }
        p.stringTable = strings
        p.visitStringReferences { $0 = $0 >= 0 && Int($0) < stringMap.count ? stringMap[Int($0)] : $0 }

        let functionID = Self.deduplicate(&p.functions, id: \.id) { [$0.name, $0.systemName, $0.filename, $0.startLine] }
        let mappingID = Self.deduplicate(&p.mappings, id: \.id) { m -> [Int64] in
            let size = (m.memoryLimit &- m.memoryStart &+ 0xFFF) & ~UInt64(0xFFF)
            return [Int64(bitPattern: size), Int64(bitPattern: m.fileOffset), m.buildID != 0 ? m.buildID : m.filename]
        }
        for i in p.locations.indices {
            p.locations[i].mappingID = mappingID[p.locations[i].mappingID] ?? p.locations[i].mappingID
            for l in p.locations[i].lines.indices {
                p.locations[i].lines[l].functionID = functionID[p.locations[i].lines[l].functionID] ?? 0
            }
        }
        let locationID = Self.deduplicate(&p.locations, id: \.id) { l in
            [Int64(bitPattern: l.address), Int64(bitPattern: l.mappingID)] + l.lines.flatMap { [Int64(bitPattern: $0.functionID), $0.line] }
        }
        var sampleIndex: [[Int64]: Int] = [:]
        var samples: [Sample] = []
        for var s in p.samples {
            s.locationIDs = s.locationIDs.map { locationID[$0] ?? 0 }
            let key = s.locationIDs.map { Int64(bitPattern: $0) } + [-1] + s.labels.flatMap { [$0.key, $0.str, $0.num, $0.numUnit] }
            if let i = sampleIndex[key], samples[i].values.count == s.values.count {
                for v in s.values.indices { samples[i].values[v] &+= s.values[v] }
            } else {
                sampleIndex[key] = samples.count
                samples.append(s)
            }
        }
        p.samples = samples
        return p
    }

    /// Keeps the first of the elements with equal keys, renumbers them 1...n and returns the old
    /// id → new id map (every old id, the duplicates' included).
    private static func deduplicate<T>(_ elements: inout [T], id: WritableKeyPath<T, UInt64>,
                                       key: (T) -> [Int64]) -> [UInt64: UInt64] {
        var newID: [UInt64: UInt64] = [:]
        var byKey: [[Int64]: UInt64] = [:]
        var kept: [T] = []
        for var element in elements {
            let k = key(element)
            if let existing = byKey[k] {
                newID[element[keyPath: id]] = existing
                continue
            }
            let assigned = UInt64(kept.count + 1)
            byKey[k] = assigned
            newID[element[keyPath: id]] = assigned
            element[keyPath: id] = assigned
            kept.append(element)
        }
        elements = kept
        return newID
    }
}
