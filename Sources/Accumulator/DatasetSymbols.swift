/// Symbol ingestion of one group into a dataset's partition (symdb.md §3.2–§3.4), in the
/// two orders upstream produces: the whole profile's tables (split path c) or the
/// exporter's compacted sub-profile (path d, profiles-parquet.md §2.2 e).
extension SymbolPartitionBuilder {
    /// Path c: every string (blanked unless kept, §3.2), mapping, function and location of
    /// the profile, in table order. Fills the scratch source → partition maps.
    mutating func ingestWholeProfile(_ p: ProfileInput, _ refs: ResolvedReferences, _ x: inout IngestScratch) {
        let gen = x.generation
        markKeptStringsOfProfileFields(p, &x)
        for m in 0 ..< p.mappingID.count { markMappingStrings(p, m, &x) }
        for f in 0 ..< p.functionID.count { markFunctionStrings(p, f, &x) }
        for i in 0 ..< p.strings.count {
            x.stringMap[i] = x.keptStamp[i] == gen ? strings.intern(p.strings[i]) : 0
        }
        for m in 0 ..< p.mappingID.count { x.mappingMap[m] = internMapping(mappingRecord(p, m, x)) }
        for f in 0 ..< p.functionID.count { x.functionMap[f] = internFunction(functionRecord(p, f, x)) }
        for l in 0 ..< p.locationID.count { x.locationMap[l] = internLocation(p, refs, l, x) }
    }

    /// Path d: only what the group's samples reference, in the exporter's first-reference
    /// order. Also records the export string index of each string it visits.
    mutating func ingestExportedGroup(_ p: ProfileInput, _ refs: ResolvedReferences, samples: ArraySlice<Int32>,
                                      _ keys: SpecialLabelKeys, _ x: inout IngestScratch) {
        let gen = x.generation
        x.exportHasSpanString = false
        x.exportHasTraceString = false
        x.referencedLocations.removeAll(keepingCapacity: true)
        for s in samples {
            let start = Int(p.sampleLocationStart[Int(s)])
            for k in start ..< start + Int(p.sampleLocationCount[Int(s)]) {
                let l = Int(refs.sampleLocation[k])
                if x.locationStamp[l] != gen {
                    x.locationStamp[l] = gen
                    x.referencedLocations.append(Int32(l))
                }
            }
        }
        // Mappings and functions: referenced locations walked in source table order.
        x.sortedLocations.removeAll(keepingCapacity: true)
        x.sortedLocations.append(contentsOf: x.referencedLocations)
        StableSort.sort(&x.sortedLocations, buffer: &x.locationSortBuffer, by: <)
        x.exportMappings.removeAll(keepingCapacity: true)
        x.exportFunctions.removeAll(keepingCapacity: true)
        for l in x.sortedLocations {
            let m = Int(refs.locationMapping[Int(l)])
            precondition(m >= 0, "split profiles were checked for mapping_id 0")
            if x.mappingStamp[m] != gen {
                x.mappingStamp[m] = gen
                x.exportMappings.append(Int32(m))
            }
            let start = Int(p.locationLineStart[Int(l)])
            for k in start ..< start + Int(p.locationLineCount[Int(l)]) {
                let f = Int(refs.lineFunction[k])
                if x.functionStamp[f] != gen {
                    x.functionStamp[f] = gen
                    x.exportFunctions.append(Int32(f))
                }
            }
        }

        markKeptStringsOfProfileFields(p, &x)
        for m in x.exportMappings { markMappingStrings(p, Int(m), &x) }
        for f in x.exportFunctions { markFunctionStrings(p, Int(f), &x) }

        // Strings in the exporter's first-reference order.
        var next: Int64 = 1
        for t in 0 ..< p.typeCount {
            visitString(p.sampleTypeType[t], p, &next, &x)
            visitString(p.sampleTypeUnit[t], p, &next, &x)
        }
        visitString(p.dropFrames, p, &next, &x)
        visitString(p.keepFrames, p, &next, &x)
        for c in p.comments { visitString(c, p, &next, &x) }
        for s in samples {
            let ls = Int(p.sampleLabelStart[Int(s)])
            for l in ls ..< ls + Int(p.sampleLabelCount[Int(s)]) {
                let key = p.labelKey[l]
                // After grouping a sample keeps only its trace/span labels (§2.2 b).
                guard keys.isSpan(key) || keys.isTrace(key) else { continue }
                // A "span_id" appended by the rename is past the table: blank, never interned,
                // and no export index after this point is stored.
                visitString(keys.isSpan(key) ? keys.spanKey : key, p, &next, &x)
                if p.labelStr[l] != 0 { visitString(p.labelStr[l], p, &next, &x) } else { visitString(p.labelNumUnit[l], p, &next, &x) }
            }
        }
        for m in x.exportMappings {
            visitString(p.mappingFilename[Int(m)], p, &next, &x)
            visitString(p.mappingBuildID[Int(m)], p, &next, &x)
        }
        for f in x.exportFunctions {
            visitString(p.functionName[Int(f)], p, &next, &x)
            visitString(p.functionSystemName[Int(f)], p, &next, &x)
            visitString(p.functionFilename[Int(f)], p, &next, &x)
        }

        for m in x.exportMappings { x.mappingMap[Int(m)] = internMapping(mappingRecord(p, Int(m), x)) }
        for f in x.exportFunctions { x.functionMap[Int(f)] = internFunction(functionRecord(p, Int(f), x)) }
        for l in x.referencedLocations { x.locationMap[Int(l)] = internLocation(p, refs, Int(l), x) }
    }

    private mutating func visitString(_ i: Int64, _ p: ProfileInput, _ next: inout Int64, _ x: inout IngestScratch) {
        guard i > 0, i < p.strings.count else { return }
        let s = Int(i)
        if x.stringStamp[s] == x.generation { return }
        x.stringStamp[s] = x.generation
        x.exportString[s] = next
        next += 1
        // §2.5 reads "span_id"/"trace_id" from the sub-profile's whole string table.
        if equalsStatic(p.strings[s], LabelNames.spanID) { x.exportHasSpanString = true }
        if equalsStatic(p.strings[s], LabelNames.traceID) { x.exportHasTraceString = true }
        x.stringMap[s] = x.keptStamp[s] == x.generation ? strings.intern(p.strings[s]) : 0
    }

    /// Strings that `ZeroLabelStrings` keeps besides symbols: sample types, comments,
    /// keep/drop frames (symdb.md §3.2).
    private func markKeptStringsOfProfileFields(_ p: ProfileInput, _ x: inout IngestScratch) {
        let gen = x.generation
        for t in 0 ..< p.typeCount {
            x.keptStamp[Int(p.sampleTypeType[t])] = gen
            x.keptStamp[Int(p.sampleTypeUnit[t])] = gen
        }
        for c in p.comments { x.keptStamp[Int(c)] = gen }
        x.keptStamp[Int(p.dropFrames)] = gen
        x.keptStamp[Int(p.keepFrames)] = gen
    }

    private func markMappingStrings(_ p: ProfileInput, _ m: Int, _ x: inout IngestScratch) {
        x.keptStamp[Int(p.mappingFilename[m])] = x.generation
        x.keptStamp[Int(p.mappingBuildID[m])] = x.generation
    }

    private func markFunctionStrings(_ p: ProfileInput, _ f: Int, _ x: inout IngestScratch) {
        x.keptStamp[Int(p.functionName[f])] = x.generation
        x.keptStamp[Int(p.functionSystemName[f])] = x.generation
        x.keptStamp[Int(p.functionFilename[f])] = x.generation
    }

    private func mappingRecord(_ p: ProfileInput, _ m: Int, _ x: IngestScratch) -> MappingRecord {
        let flags = p.mappingFlags[m]
        return MappingRecord(
            memoryStart: p.mappingMemoryStart[m], memoryLimit: p.mappingMemoryLimit[m], fileOffset: p.mappingFileOffset[m],
            filename: x.stringMap[Int(p.mappingFilename[m])], buildID: x.stringMap[Int(p.mappingBuildID[m])],
            hasFunctions: flags & 1 != 0, hasFilenames: flags & 2 != 0,
            hasLineNumbers: flags & 4 != 0, hasInlineFrames: flags & 8 != 0)
    }

    private func functionRecord(_ p: ProfileInput, _ f: Int, _ x: IngestScratch) -> FunctionRecord {
        FunctionRecord(
            name: x.stringMap[Int(p.functionName[f])], systemName: x.stringMap[Int(p.functionSystemName[f])],
            filename: x.stringMap[Int(p.functionFilename[f])],
            startLine: UInt32(truncatingIfNeeded: p.functionStartLine[f]))
    }

    /// symdb.md §3.3: `mapping_id 0` stays 0; lines keep order, `line` wraps to int32.
    private mutating func internLocation(_ p: ProfileInput, _ refs: ResolvedReferences, _ l: Int, _ x: IngestScratch) -> UInt32 {
        let m = refs.locationMapping[l]
        let mapping = m < 0 ? 0 : x.mappingMap[Int(m)]
        let start = Int(p.locationLineStart[l])
        for k in start ..< start + Int(p.locationLineCount[l]) {
            stageLine(function: x.functionMap[Int(refs.lineFunction[k])], line: Int32(truncatingIfNeeded: p.lineNumber[k]))
        }
        return internStagedLocation(mapping: mapping, address: p.locationAddress[l], isFolded: p.locationIsFolded[l])
    }
}
