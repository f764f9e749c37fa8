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
        // The maps are moved out of `x` and written through pointers (a store through `inout x`
        // checked uniqueness per symbol); each is back in `x` before the records that read it.
        var stringMap = x.stringMap
        x.stringMap = []
        // Each index is read into the cache first when many symbols are coming (`SlotIndex.preload`).
        strings.preload(forProbes: p.strings.count)
        stringMap.withUnsafeMutableBufferPointer { map in
            x.keptStamp.withUnsafeBufferPointer { kept in
                for i in 0 ..< p.strings.count where kept[i] == gen { map[i] = strings.intern(p.string(i)) }
            }
        }
        x.stringMap = stringMap
        // The scratch goes in `inout` and each id is stored after the call: passed by value
        // from an `inout` (or read while being written) it was copied whole on every call.
        for m in p.mappings.indices {
            let id = internMapping(mappingRecord(p.mappings[m], &x))
            x.mappingMap[m] = id
        }
        var functionMap = x.functionMap
        x.functionMap = []
        preloadFunctionIndex(forProbes: p.functions.count)
        functionMap.withUnsafeMutableBufferPointer { map in
            stringMap.withUnsafeBufferPointer { stringMap in
                for f in p.functions.indices { map[f] = internFunction(Self.functionRecord(p.functions[f], stringMap)) }
            }
        }
        x.functionMap = functionMap
        var locationMap = x.locationMap
        x.locationMap = []
        preloadLocationIndex(forProbes: p.locations.count)
        let mappingMap = x.mappingMap
        locationMap.withUnsafeMutableBufferPointer { map in
            mappingMap.withUnsafeBufferPointer { mappingMap in
                functionMap.withUnsafeBufferPointer { functionMap in
                    for l in p.locations.indices { map[l] = internLocation(p, l, mappingMap, functionMap) }
                }
            }
        }
        x.locationMap = locationMap
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
        for m in x.exportMappings { markMappingStrings(p.mappings[Int(m)], &x) }
        Self.markFunctionStrings(p, x.exportFunctions, &x)

        // Strings in the exporter's first-reference order, the string columns moved out of `x`
        // and written through pointers (a store through `inout x` checked uniqueness each time).
        var stamp = x.stringStamp, export = x.exportString, map = x.stringMap, interned = x.stringInterned
        x.stringStamp = []
        x.exportString = []
        x.stringMap = []
        x.stringInterned = []
        var sawSpanID = false, sawTraceID = false
        // Each index is read into the cache first when many symbols are coming (`SlotIndex.preload`):
        // mostly the new functions' strings (three each), the new functions, the walked locations.
        strings.preload(forProbes: 3 * x.exportFunctions.count)
        stamp.withUnsafeMutableBufferPointer { stamp in
            export.withUnsafeMutableBufferPointer { export in
                map.withUnsafeMutableBufferPointer { map in
                    interned.withUnsafeMutableBufferPointer { interned in
                        x.keptStamp.withUnsafeBufferPointer { kept in
                            var v = ExportStringVisit(stamp: stamp, export: export, map: map, interned: interned, kept: kept,
                                                      generation: x.generation, push: push)
                            visitExportedStrings(&v, p, samples, keys, revisit: revisit, x)
                            sawSpanID = v.sawSpanID
                            sawTraceID = v.sawTraceID
                        }
                    }
                }
            }
        }
        x.stringStamp = stamp
        x.exportString = export
        x.stringMap = map
        x.stringInterned = interned
        x.exportHasSpanString = sawSpanID
        x.exportHasTraceString = sawTraceID

        // Interned in the same order as before; what an earlier group of this push interned
        // is already in the tables, so only its lookup is skipped.
        for m in x.exportMappings where x.mappingInterned[Int(m)] != push {
            let id = internMapping(mappingRecord(p.mappings[Int(m)], &x))
            x.mappingMap[Int(m)] = id
            x.mappingInterned[Int(m)] = push
        }
        // The function and location maps are moved out of `x` and written through pointers (a
        // store through `inout x` checked uniqueness per symbol); the function map is back in
        // `x` before the locations, whose lines read it.
        var functionMap = x.functionMap, functionInterned = x.functionInterned
        x.functionMap = []
        x.functionInterned = []
        preloadFunctionIndex(forProbes: x.exportFunctions.count)
        let stringMap = x.stringMap
        functionMap.withUnsafeMutableBufferPointer { map in
            functionInterned.withUnsafeMutableBufferPointer { interned in
                stringMap.withUnsafeBufferPointer { stringMap in
                    for f in x.exportFunctions where interned[Int(f)] != push {
                        map[Int(f)] = internFunction(Self.functionRecord(p.functions[Int(f)], stringMap))
                        interned[Int(f)] = push
                    }
                }
            }
        }
        x.functionMap = functionMap
        x.functionInterned = functionInterned
        var locationMap = x.locationMap, locationInterned = x.locationInterned
        x.locationMap = []
        x.locationInterned = []
        preloadLocationIndex(forProbes: x.sortedLocations.count)
        let mappingMap = x.mappingMap
        locationMap.withUnsafeMutableBufferPointer { map in
            locationInterned.withUnsafeMutableBufferPointer { interned in
                mappingMap.withUnsafeBufferPointer { mappingMap in
                    functionMap.withUnsafeBufferPointer { functionMap in
                        for l in x.referencedLocations where interned[Int(l)] != push {
                            map[Int(l)] = internLocation(p, Int(l), mappingMap, functionMap)
                            interned[Int(l)] = push
                        }
                    }
                }
            }
        }
        x.locationMap = locationMap
        x.locationInterned = locationInterned
    }

    /// The mappings and functions of the referenced locations (`onlyNew`: of those no earlier
    /// group of this push interned), in the exporter's order: the locations walked in source
    /// table order. When they are a good share of the table, the stamps are scanned in order
    /// instead of sorting. The lists are moved out of `x`, sized to their bounds first and
    /// written through pointers (an append checked uniqueness and capacity each time).
    private static func collectExportedMappingsAndFunctions(_ p: PprofTables, onlyNew: Bool, _ x: inout IngestScratch) {
        let gen = x.generation, push = x.pushGeneration
        var walk = x.sortedLocations
        x.sortedLocations = []
        walk.removeAll(keepingCapacity: true)
        let referenced = x.referencedLocations
        var scanned = false
        x.locationStamp.withUnsafeBufferPointer { stamp in
            x.locationInterned.withUnsafeBufferPointer { interned in
                var count = referenced.count
                if onlyNew {
                    count = 0
                    for l in referenced where interned[Int(l)] != push { count += 1 }
                }
                scanned = count * 8 >= p.locations.count
                walk.append(contentsOf: repeatElement(0, count: count))
                walk.withUnsafeMutableBufferPointer { walk in
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
                }
            }
        }
        if !scanned { StableSort.sort(&walk, buffer: &x.locationSortBuffer, by: <) }
        x.sortedLocations = walk
        let locations = p.locations, lines = p.lines
        var lineTotal = 0
        for l in walk { lineTotal &+= Int(locations[Int(l)].lineCount) }
        var mappings = x.exportMappings, functions = x.exportFunctions
        x.exportMappings = []
        x.exportFunctions = []
        mappings.removeAll(keepingCapacity: true)
        functions.removeAll(keepingCapacity: true)
        mappings.append(contentsOf: repeatElement(0, count: min(walk.count, p.mappings.count)))
        functions.append(contentsOf: repeatElement(0, count: min(lineTotal, p.functions.count)))
        var mappingCount = 0, functionCount = 0
        x.mappingStamp.withUnsafeMutableBufferPointer { mappingStamp in
            x.functionStamp.withUnsafeMutableBufferPointer { functionStamp in
                mappings.withUnsafeMutableBufferPointer { mappings in
                    functions.withUnsafeMutableBufferPointer { functions in
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
                    }
                }
            }
        }
        mappings.removeLast(mappings.count - mappingCount)
        functions.removeLast(functions.count - functionCount)
        x.exportMappings = mappings
        x.exportFunctions = functions
    }

    /// Stamps the locations the group's samples reference and lists them in first-reference
    /// order. The frame walk (every frame of every sample) reads and stamps through pointers:
    /// an array access through `inout x` re-checked uniqueness on every frame. Samples in
    /// consecutive source order (common: one group of the whole profile) have their frames in
    /// one span of the frame column, walked at once; when that span is long against the
    /// location table, by first blocks (`collectByFirstBlock`) rather than frame by frame.
    private static func collectReferencedLocations(_ p: PprofTables, _ samples: ArraySlice<Int32>,
                                                   _ x: inout IngestScratch) {
        let gen = x.generation
        var referenced = x.referencedLocations
        x.referencedLocations = []
        referenced.removeAll(keepingCapacity: true)
        let starts = p.sampleLocationStarts, frames = p.sampleLocationIndices
        let locationCount = p.locations.count
        samples.withUnsafeBufferPointer { samples in
            // Sized to a bound first (no more than the locations or the group's frames), written
            // through a pointer and trimmed: an append checked uniqueness and capacity each time.
            let consecutive = areConsecutive(samples)
            var frameCount = 0
            if consecutive, let first = samples.first {
                frameCount = Int(starts[Int(first) + samples.count]) - Int(starts[Int(first)])
            } else {
                for s in samples { frameCount &+= Int(starts[Int(s) + 1]) - Int(starts[Int(s)]) }
            }
            referenced.append(contentsOf: repeatElement(0, count: min(frameCount, locationCount)))
            let byBlocks = consecutive && frameCount >= FirstBlocks.minimumFramesPerLocation * locationCount
            if byBlocks {
                if x.locationFirstBlock.count < locationCount {
                    x.locationFirstBlock.append(contentsOf: repeatElement(0, count: locationCount - x.locationFirstBlock.count))
                }
                let words = FirstBlocks.words(frames: frameCount)
                if x.firstBlockBits.count < words { x.firstBlockBits.append(contentsOf: repeatElement(0, count: words - x.firstBlockBits.count)) }
            }
            var n = 0
            referenced.withUnsafeMutableBufferPointer { out in
                x.locationStamp.withUnsafeMutableBufferPointer { stamp in
                    if consecutive, let first = samples.first {
                        let span = Int(starts[Int(first)]) ..< Int(starts[Int(first) + samples.count])
                        if byBlocks {
                            x.locationFirstBlock.withUnsafeMutableBufferPointer { firstBlock in
                                x.firstBlockBits.withUnsafeMutableBufferPointer { bits in
                                    let blocks = FirstBlocks(frames: UnsafeBufferPointer(rebasing: frames[span]),
                                                             firstBlock: UnsafeMutableBufferPointer(rebasing: firstBlock[..<locationCount]),
                                                             bits: UnsafeMutableBufferPointer(rebasing: bits[..<FirstBlocks.words(frames: frameCount)]))
                                    blocks.collect(stamp, gen, out, &n)
                                }
                            }
                        } else {
                            stampFrames(frames, span, stamp, gen, out, &n)
                        }
                    } else {
                        for s in samples { stampFrames(frames, Int(starts[Int(s)]) ..< Int(starts[Int(s) + 1]), stamp, gen, out, &n) }
                    }
                }
            }
            referenced.removeLast(referenced.count - n)
        }
        x.referencedLocations = referenced
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
                                               _ keys: SpecialLabelKeys, revisit: Bool, _ x: IngestScratch) {
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
        let push = x.pushGeneration
        for m in x.exportMappings where revisit || x.mappingInterned[Int(m)] != push {
            v.visit(p.mappings[Int(m)].filename, p, &strings)
            v.visit(p.mappings[Int(m)].buildID, p, &strings)
        }
        for f in x.exportFunctions where revisit || x.functionInterned[Int(f)] != push {
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

    /// Marks the strings of functions `functions` (source indices) kept, through a pointer (a
    /// store through `inout x` checked uniqueness each time). The decoder checked the indices.
    private static func markFunctionStrings<C: Collection>(_ p: PprofTables, _ functions: C, _ x: inout IngestScratch)
        where C.Element: BinaryInteger {
        let gen = x.generation
        x.keptStamp.withUnsafeMutableBufferPointer { kept in
            for f in functions {
                let function = p.functions[Int(f)]
                kept[Int(function.name)] = gen
                kept[Int(function.systemName)] = gen
                kept[Int(function.filename)] = gen
            }
        }
    }

    private func mappingRecord(_ m: Pprof.MappingRecord, _ x: inout IngestScratch) -> PartitionMapping {
        PartitionMapping(
            memoryStart: m.memoryStart, memoryLimit: m.memoryLimit, fileOffset: m.fileOffset,
            filename: x.stringMap[Int(m.filename)], buildID: x.stringMap[Int(m.buildID)],
            hasFunctions: m.hasFunctions, hasFilenames: m.hasFilenames,
            hasLineNumbers: m.hasLineNumbers, hasInlineFrames: m.hasInlineFrames)
    }

    /// The string map is read through a pointer (through `inout x` each read was checked).
    private static func functionRecord(_ f: Pprof.FunctionRecord, _ stringMap: UnsafeBufferPointer<UInt32>) -> PartitionFunction {
        PartitionFunction(
            name: stringMap[Int(f.name)], systemName: stringMap[Int(f.systemName)],
            filename: stringMap[Int(f.filename)], startLine: UInt32(truncatingIfNeeded: f.startLine))
    }

    /// symdb.md §3.3: `mapping_id 0` stays 0; lines keep order, `line` wraps to int32. The
    /// maps are read through pointers (through `inout x` each read was a uniqueness and
    /// bounds check).
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
