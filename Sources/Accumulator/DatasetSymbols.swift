import Pprof

/// Symbol ingestion of one group into a dataset's partition (symdb.md §3.2–§3.4), in the
/// two orders upstream produces: the whole profile's tables (split path c) or the
/// exporter's compacted sub-profile (path d, profiles-parquet.md §2.2 e). The profile's
/// references were resolved by the decoder (`PprofTables.referencesResolved`).
extension SymbolPartitionBuilder {
    /// Path c: every string (blanked unless kept, §3.2), mapping, function and location of
    /// the profile, in table order. Fills the scratch source → partition maps (the only group
    /// of its push: nothing is memoised for later groups).
    mutating func ingestWholeProfile(_ p: PprofTables, _ x: inout IngestScratch) {
        let gen = x.generation
        markKeptStringsOfProfileFields(p, &x)
        for m in p.mappings.indices { markMappingStrings(p.mappings[m], &x) }
        Self.markFunctionStrings(p, p.functions.indices, &x)
        let kept = x.keptStamp.elements
        let stringMap = x.stringMap.mutableElements, mappingMap = x.mappingMap.mutableElements
        let functionMap = x.functionMap.mutableElements, locationMap = x.locationMap.mutableElements
        // Each index is read into the cache first when many symbols are coming (`SlotIndex.preload`).
        strings.preload(forProbes: p.strings.count)
        for i in 0 ..< p.strings.count where kept[i] == gen { stringMap[i] = strings.intern(p.string(i)) }
        for m in p.mappings.indices {
            mappingMap[m] = internMapping(Self.mappingRecord(p.mappings[m], UnsafeBufferPointer(stringMap)))
        }
        preloadFunctionIndex(forProbes: p.functions.count)
        for f in p.functions.indices {
            functionMap[f] = internFunction(Self.functionRecord(p.functions[f], UnsafeBufferPointer(stringMap)))
        }
        preloadLocationIndex(forProbes: p.locations.count)
        for l in p.locations.indices {
            locationMap[l] = internLocation(p, l, UnsafeBufferPointer(mappingMap), UnsafeBufferPointer(functionMap))
        }
    }

    /// Path d: only what the group's samples reference, in the exporter's first-reference
    /// order. Also records the export string index of each string it visits.
    mutating func ingestExportedGroup(_ p: PprofTables, samples: ArraySlice<Int32>,
                                      _ keys: SpecialLabelKeys, _ x: inout IngestScratch) {
        Self.collectReferencedLocations(p, samples, &x)
        // A symbol an earlier group of this push interned has its strings interned too, so
        // visiting them again could only set the span/trace flags, which no string can when the
        // table spells neither "span_id" nor "trace_id". Then only the locations new to this
        // push are walked for mappings and functions: a new function or mapping is reached
        // through new locations only, first in the same source order as in a walk of all.
        let push = x.pushGeneration
        let revisit = (keys.spanKey > 0 && keys.spanKey < p.strings.count) || keys.traceKey > 0
        Self.collectExportedMappingsAndFunctions(p, onlyNew: !revisit, &x)

        markKeptStringsOfProfileFields(p, &x)
        for m in x.exportMappings.elements { markMappingStrings(p.mappings[Int(m)], &x) }
        Self.markFunctionStrings(p, x.exportFunctions.elements, &x)

        // Strings in the exporter's first-reference order.
        var v = ExportStringVisit(stamp: x.stringStamp.mutableElements, export: x.exportString.mutableElements,
                                  map: x.stringMap.mutableElements, interned: x.stringInterned.mutableElements,
                                  kept: x.keptStamp.elements, generation: x.generation, push: push)
        // Each index is read into the cache first when many symbols are coming (`SlotIndex.preload`):
        // mostly the new functions' strings (three each), the new functions, the walked locations.
        strings.preload(forProbes: 3 * x.exportFunctions.count)
        visitExportedStrings(&v, p, samples, keys, revisit: revisit, x)
        x.exportHasSpanString = v.sawSpanID
        x.exportHasTraceString = v.sawTraceID

        // Interned in the same order as before; what an earlier group of this push interned
        // is already in the tables, so only its lookup is skipped.
        let stringMap = x.stringMap.elements
        let mappingMap = x.mappingMap.mutableElements, mappingInterned = x.mappingInterned.mutableElements
        let functionMap = x.functionMap.mutableElements, functionInterned = x.functionInterned.mutableElements
        let locationMap = x.locationMap.mutableElements, locationInterned = x.locationInterned.mutableElements
        for m in x.exportMappings.elements where mappingInterned[Int(m)] != push {
            mappingMap[Int(m)] = internMapping(Self.mappingRecord(p.mappings[Int(m)], stringMap))
            mappingInterned[Int(m)] = push
        }
        preloadFunctionIndex(forProbes: x.exportFunctions.count)
        for f in x.exportFunctions.elements where functionInterned[Int(f)] != push {
            functionMap[Int(f)] = internFunction(Self.functionRecord(p.functions[Int(f)], stringMap))
            functionInterned[Int(f)] = push
        }
        preloadLocationIndex(forProbes: x.sortedLocations.count)
        for l in x.referencedLocations.elements where locationInterned[Int(l)] != push {
            locationMap[Int(l)] = internLocation(p, Int(l), UnsafeBufferPointer(mappingMap), UnsafeBufferPointer(functionMap))
            locationInterned[Int(l)] = push
        }
    }

    /// The mappings and functions of the referenced locations (`onlyNew`: of those no earlier
    /// group of this push interned), in the exporter's order: the locations walked in source
    /// table order. When they are a good share of the table, the stamps are scanned in order
    /// instead of sorting. The lists are sized to their bounds, written through pointers and
    /// trimmed.
    private static func collectExportedMappingsAndFunctions(_ p: PprofTables, onlyNew: Bool, _ x: inout IngestScratch) {
        let gen = x.generation, push = x.pushGeneration
        let referenced = x.referencedLocations.elements
        let stamp = x.locationStamp.elements, interned = x.locationInterned.elements
        var count = referenced.count
        if onlyNew {
            count = 0
            for l in referenced where interned[Int(l)] != push { count += 1 }
        }
        let scanned = count * 8 >= p.locations.count
        x.sortedLocations.reset(count: count)
        let walk = x.sortedLocations.mutableElements
        // The stamped locations are exactly the referenced ones: `count` in both walks.
        var n = 0
        if scanned {
            for l in 0 ..< p.locations.count where stamp[l] == gen && !(onlyNew && interned[l] == push) {
                walk[n] = Int32(truncatingIfNeeded: l)
                n &+= 1
            }
        } else {
            for l in referenced where !(onlyNew && interned[Int(l)] == push) {
                walk[n] = l
                n &+= 1
            }
        }
        precondition(n == count, "the referenced locations are the stamped ones")
        if !scanned {
            x.locationSortBuffer.resize(toAtLeast: count, fill: 0)
            StableSort.sort(walk, buffer: x.locationSortBuffer.mutableElements, by: <)
        }
        let locations = p.locations, lines = p.lines
        var lineTotal = 0
        for l in walk { lineTotal &+= Int(locations[Int(l)].lineCount) }
        x.exportMappings.reset(count: min(walk.count, p.mappings.count))
        x.exportFunctions.reset(count: min(lineTotal, p.functions.count))
        let mappingStamp = x.mappingStamp.mutableElements, functionStamp = x.functionStamp.mutableElements
        let mappings = x.exportMappings.mutableElements, functions = x.exportFunctions.mutableElements
        var mappingCount = 0, functionCount = 0
        for l in walk {
            let location = locations[Int(l)]
            precondition(location.mappingIndex != LocationRecord.noMapping,
                         "split profiles were checked for mapping_id 0")
            let m = Int(location.mappingIndex)
            if mappingStamp[m] != gen {
                mappingStamp[m] = gen
                mappings[mappingCount] = Int32(truncatingIfNeeded: m)
                mappingCount &+= 1
            }
            let start = Int(location.lineStart)
            for k in start ..< start + Int(location.lineCount) {
                let f = Int(lines[k].functionIndex)
                if functionStamp[f] != gen {
                    functionStamp[f] = gen
                    functions[functionCount] = Int32(truncatingIfNeeded: f)
                    functionCount &+= 1
                }
            }
        }
        x.exportMappings.truncate(to: mappingCount)
        x.exportFunctions.truncate(to: functionCount)
    }

    /// Stamps the locations the group's samples reference and lists them in first-reference
    /// order, through pointers (the frame walk visits every frame of every sample). Samples in
    /// consecutive source order (common: one group of the whole profile) have their frames in
    /// one span of the frame column, walked at once; when that span is long against the
    /// location table, by first blocks (`FirstBlocks`) rather than frame by frame.
    private static func collectReferencedLocations(_ p: PprofTables, _ samples: ArraySlice<Int32>,
                                                   _ x: inout IngestScratch) {
        let gen = x.generation
        let starts = p.sampleLocationStarts, frames = p.sampleLocationIndices
        let locationCount = p.locations.count
        samples.withUnsafeBufferPointer { samples in
            let consecutive = areConsecutive(samples)
            var frameCount = 0
            if consecutive, let first = samples.first {
                frameCount = Int(starts[Int(first) + samples.count]) - Int(starts[Int(first)])
            } else {
                for s in samples { frameCount &+= Int(starts[Int(s) + 1]) - Int(starts[Int(s)]) }
            }
            // Sized to a bound (no more than the locations or the group's frames), then trimmed.
            x.referencedLocations.reset(count: min(frameCount, locationCount))
            let out = x.referencedLocations.mutableElements, stamp = x.locationStamp.mutableElements
            var n = 0
            if consecutive, let first = samples.first {
                let span = Int(starts[Int(first)]) ..< Int(starts[Int(first) + samples.count])
                if frameCount >= FirstBlocks.minimumFramesPerLocation * locationCount {
                    let words = FirstBlocks.words(frames: frameCount)
                    x.locationFirstBlock.resize(toAtLeast: locationCount, fill: 0)
                    x.firstBlockBits.resize(toAtLeast: words, fill: 0)
                    let blocks = FirstBlocks(frames: UnsafeBufferPointer(rebasing: frames[span]),
                                             firstBlock: UnsafeMutableBufferPointer(rebasing: x.locationFirstBlock.mutableElements[..<locationCount]),
                                             bits: UnsafeMutableBufferPointer(rebasing: x.firstBlockBits.mutableElements[..<words]))
                    blocks.collect(stamp, gen, out, &n)
                } else {
                    stampFrames(frames, span, stamp, gen, out, &n)
                }
            } else {
                for s in samples { stampFrames(frames, Int(starts[Int(s)]) ..< Int(starts[Int(s) + 1]), stamp, gen, out, &n) }
            }
            x.referencedLocations.truncate(to: n)
        }
    }

    /// `samples` is first, first + 1, … (branch-free: the compiler vectorises it).
    private static func areConsecutive(_ samples: UnsafeBufferPointer<Int32>) -> Bool {
        guard let first = samples.first else { return false }
        var differs: Int32 = 0
        for k in samples.indices { differs |= samples[k] ^ (first &+ Int32(truncatingIfNeeded: k)) }
        return differs == 0
    }

    /// Stamps the locations of `frames[range]` in order, listing each new one at `out[n]`. Four
    /// frames at a time with one test: most are stamped already (stacks share most frames).
    @inline(__always)
    private static func stampFrames(_ frames: UnsafeBufferPointer<UInt32>, _ range: Range<Int>,
                                    _ stamp: UnsafeMutableBufferPointer<UInt32>, _ gen: UInt32,
                                    _ out: UnsafeMutableBufferPointer<Int32>, _ n: inout Int) {
        @inline(__always) func visit(_ l: Int) {
            if stamp[l] != gen {
                stamp[l] = gen
                out[n] = Int32(truncatingIfNeeded: l)
                n &+= 1
            }
        }
        var k = range.lowerBound
        while k &+ 4 <= range.upperBound {
            let a = Int(frames[k]), b = Int(frames[k &+ 1]), c = Int(frames[k &+ 2]), d = Int(frames[k &+ 3])
            if (stamp[a] ^ gen) | (stamp[b] ^ gen) | (stamp[c] ^ gen) | (stamp[d] ^ gen) != 0 {
                visit(a)
                visit(b)
                visit(c)
                visit(d)
            }
            k &+= 4
        }
        while k < range.upperBound {
            visit(Int(frames[k]))
            k &+= 1
        }
    }

    /// The strings of the exported sub-profile in the exporter's first-reference order: sample
    /// types, drop/keep frames, comments, the samples' span and trace labels (after grouping a
    /// sample keeps only those, §2.2 b; none without span/trace keys), mappings, functions.
    /// Symbols an earlier group of this push interned are skipped unless `revisit`.
    private mutating func visitExportedStrings(_ v: inout ExportStringVisit, _ p: PprofTables, _ samples: ArraySlice<Int32>,
                                               _ keys: SpecialLabelKeys, revisit: Bool, _ x: borrowing IngestScratch) {
        for t in p.sampleTypes {
            v.visit(t.type, p, &strings)
            v.visit(t.unit, p, &strings)
        }
        v.visit(p.dropFrames, p, &strings)
        v.visit(p.keepFrames, p, &strings)
        for c in p.comments { v.visit(c, p, &strings) }
        if keys.mayHaveIDLabels {
            for s in samples {
                for l in Int(p.sampleLabelStarts[Int(s)]) ..< Int(p.sampleLabelStarts[Int(s) + 1]) {
                    let label = p.sampleLabels[l]
                    guard keys.isSpan(label.key) || keys.isTrace(label.key) else { continue }
                    // A "span_id" appended by the rename is past the table: blank, never interned,
                    // and no export index after this point is stored.
                    v.visit(keys.isSpan(label.key) ? keys.spanKey : label.key, p, &strings)
                    v.visit(label.str != 0 ? label.str : label.numUnit, p, &strings)
                }
            }
        }
        let push = x.pushGeneration, mappingInterned = x.mappingInterned.elements, functionInterned = x.functionInterned.elements
        for m in x.exportMappings.elements where revisit || mappingInterned[Int(m)] != push {
            v.visit(p.mappings[Int(m)].filename, p, &strings)
            v.visit(p.mappings[Int(m)].buildID, p, &strings)
        }
        for f in x.exportFunctions.elements where revisit || functionInterned[Int(f)] != push {
            let function = p.functions[Int(f)]
            v.visit(function.name, p, &strings)
            v.visit(function.systemName, p, &strings)
            v.visit(function.filename, p, &strings)
        }
    }

    /// Strings that `ZeroLabelStrings` keeps besides symbols: sample types, comments,
    /// keep/drop frames (symdb.md §3.2).
    private func markKeptStringsOfProfileFields(_ p: PprofTables, _ x: inout IngestScratch) {
        let gen = x.generation
        for t in p.sampleTypes {
            x.keptStamp[Int(t.type)] = gen
            x.keptStamp[Int(t.unit)] = gen
        }
        for c in p.comments { x.keptStamp[Int(c)] = gen }
        x.keptStamp[Int(p.dropFrames)] = gen
        x.keptStamp[Int(p.keepFrames)] = gen
    }

    private func markMappingStrings(_ m: Pprof.MappingRecord, _ x: inout IngestScratch) {
        x.keptStamp[Int(m.filename)] = x.generation
        x.keptStamp[Int(m.buildID)] = x.generation
    }

    /// Marks the strings of functions `functions` (source indices) kept. The decoder checked the indices.
    private static func markFunctionStrings<C: Collection>(_ p: PprofTables, _ functions: C, _ x: inout IngestScratch)
        where C.Element: BinaryInteger {
        let gen = x.generation, kept = x.keptStamp.mutableElements
        for f in functions {
            let function = p.functions[Int(f)]
            kept[Int(function.name)] = gen
            kept[Int(function.systemName)] = gen
            kept[Int(function.filename)] = gen
        }
    }

    private static func mappingRecord(_ m: Pprof.MappingRecord, _ stringMap: UnsafeBufferPointer<UInt32>) -> PartitionMapping {
        PartitionMapping(
            memoryStart: m.memoryStart, memoryLimit: m.memoryLimit, fileOffset: m.fileOffset,
            filename: stringMap[Int(m.filename)], buildID: stringMap[Int(m.buildID)],
            hasFunctions: m.hasFunctions, hasFilenames: m.hasFilenames,
            hasLineNumbers: m.hasLineNumbers, hasInlineFrames: m.hasInlineFrames)
    }

    private static func functionRecord(_ f: Pprof.FunctionRecord, _ stringMap: UnsafeBufferPointer<UInt32>) -> PartitionFunction {
        PartitionFunction(
            name: stringMap[Int(f.name)], systemName: stringMap[Int(f.systemName)],
            filename: stringMap[Int(f.filename)], startLine: UInt32(truncatingIfNeeded: f.startLine))
    }

    /// symdb.md §3.3: `mapping_id 0` stays 0; lines keep order, `line` wraps to int32.
    private mutating func internLocation(_ p: PprofTables, _ l: Int, _ mappingMap: UnsafeBufferPointer<UInt32>,
                                         _ functionMap: UnsafeBufferPointer<UInt32>) -> UInt32 {
        let location = p.locations[l]
        let mapping = location.mappingIndex == LocationRecord.noMapping ? 0 : mappingMap[Int(location.mappingIndex)]
        let lines = UnsafeBufferPointer(rebasing: p.lines[Int(location.lineStart) ..< Int(location.lineStart) + Int(location.lineCount)])
        return internLocation(mapping: mapping, address: location.address, isFolded: location.isFolded,
                              lines: lines, functionMap: functionMap)
    }
}

/// The exporter's string visit of one group over the scratch's string columns (stamps, export
/// indices, partition ids and their push stamps), read and written through pointers.
private struct ExportStringVisit {
    let stamp: UnsafeMutableBufferPointer<UInt32>
    let export: UnsafeMutableBufferPointer<Int64>
    let map: UnsafeMutableBufferPointer<UInt32>
    let interned: UnsafeMutableBufferPointer<UInt32>
    let kept: UnsafeBufferPointer<UInt32>
    let generation: UInt32
    let push: UInt32
    /// The next export string index.
    var next: Int64 = 1
    /// The exported table spells "span_id" / "trace_id" (§2.5 reads them from it).
    var sawSpanID = false
    var sawTraceID = false

    /// Gives string `i` (once per group) the next export index; a kept string not interned
    /// yet in this push is interned.
    mutating func visit(_ i: Int64, _ p: PprofTables, _ strings: inout StringTable) {
        guard i > 0, i < p.strings.count else { return }
        let s = Int(i)
        if stamp[s] == generation { return }
        stamp[s] = generation
        export[s] = next
        next += 1
        let bytes = p.string(s)
        if equalsStatic(bytes, LabelNames.spanID) { sawSpanID = true }
        if equalsStatic(bytes, LabelNames.traceID) { sawTraceID = true }
        if kept[s] == generation && interned[s] != push {
            map[s] = strings.intern(bytes)
            interned[s] = push
        }
    }
}
