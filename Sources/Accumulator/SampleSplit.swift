import Arena
import BinaryCoding
import Pprof

/// Label keys of one profile that are not grouped on (profiles-parquet.md §2.2 a–b).
struct SpecialLabelKeys {
    /// Index of `"span_id"` (> 0), or the index a rename appends after the table.
    var spanKey: Int64 = -1
    /// Index of `"profile_id"` (> 0): its labels are renamed to `span_id`.
    var profileIDKey: Int64 = -1
    var traceKey: Int64 = -1
    /// The string table spells `"__name__"` at an index > 0: a sample label may set the
    /// profile type's name.
    var hasNameString = false

    /// The profile's string table holds `"span_id"` at an index > 0 (after the rename).
    var hasSpanString: Bool { spanKey > 0 }
    var hasTraceString: Bool { traceKey > 0 }
    /// False when no label can be a span or trace label (`profileIDKey > 0` implies
    /// `spanKey > 0`): loops looking for them are skipped.
    var mayHaveIDLabels: Bool { spanKey > 0 || traceKey > 0 }

    /// Upstream hides from grouping the labels whose key index is `trace_id`'s or `span_id`'s,
    /// and takes index 0 for a name the table lacks (`LabelKeysMapByString`): then labels with
    /// key 0 (an empty name) are hidden too, kept on their samples like span and trace labels.
    var hidesEmptyKey: Bool { spanKey <= 0 || traceKey <= 0 }

    @inline(__always) func isSpan(_ key: Int64) -> Bool { key > 0 && (key == spanKey || key == profileIDKey) }
    @inline(__always) func isTrace(_ key: Int64) -> Bool { key > 0 && key == traceKey }
    /// Not grouped on (§2.2 b).
    @inline(__always) func isHidden(_ key: Int64) -> Bool { isSpan(key) || isTrace(key) || (key == 0 && hidesEmptyKey) }

    init(_ p: PprofTables) {
        var span: Int64 = -1, profileID: Int64 = -1, trace: Int64 = -1
        var name = false
        // By length first: the string is only compared when it has one of the names' lengths.
        for i in 1 ..< max(p.strings.count, 1) {
            switch Int(p.strings[i].length) {
            case LabelNames.spanID.utf8CodeUnitCount:
                if span < 0, equalsStatic(p.string(i), LabelNames.spanID) { span = Int64(i) }
            case LabelNames.profileID.utf8CodeUnitCount:
                if profileID < 0, equalsStatic(p.string(i), LabelNames.profileID) { profileID = Int64(i) }
            case LabelNames.traceID.utf8CodeUnitCount:  // also `__name__`'s
                if trace < 0, equalsStatic(p.string(i), LabelNames.traceID) { trace = Int64(i) }
                if !name, equalsStatic(p.string(i), LabelNames.name) { name = true }
            default: continue
            }
        }
        // `pprof.RenameLabel` appends "span_id" when "profile_id" exists and it does not.
        if profileID > 0 && span < 0 { span = Int64(p.strings.count) }
        spanKey = span
        profileIDKey = profileID
        traceKey = trace
        hasNameString = name
    }
}

/// Lengths first: most strings it meets (every string of a table, every visited symbol)
/// differ in length from the few names it looks for.
@inline(__always)
func equalsStatic(_ s: UnsafeRawBufferPointer, _ t: StaticString) -> Bool {
    s.count == t.utf8CodeUnitCount && t.withUTF8Buffer { compareBytes(s, UnsafeRawBufferPointer($0)) == 0 }
}

/// The sample-label split of one push (profiles-parquet.md §2.2), computed in scratch
/// buffers without touching the accumulator. Output: `groupCount` groups, each with a
/// series label set and an ordered list of source sample indices; `values` holds every
/// sample's values after group merging. Part of the per-core `IngestScratch`, noncopyable
/// like it: the per-sample and per-label columns are `ScratchColumn`s; the per-run and
/// per-group lists, short, stay arrays.
struct SampleSplit: ~Copyable {
    // Per sample: its grouping labels (key, str) sorted, without span/trace labels.
    var labelStart = ScratchColumn<Int32>()
    var labelCount = ScratchColumn<Int32>()
    var labelKey = ScratchColumn<Int64>()
    var labelStr = ScratchColumn<Int64>()
    var order = ScratchColumn<Int32>()
    var runStart: [Int32] = []
    /// Scratch of `orderByLabelSet`: each sample's label-set class, each class's first sample,
    /// rank and next free position in `order`.
    var sampleClass = ScratchColumn<Int32>()
    var classFirstSample = ScratchColumn<Int32>()
    var classIndex: SlotIndex
    /// The class index's own arena (per-core scratch, not the shard's): reset before every
    /// split, replaced by a larger one when the profile's samples might not fit.
    var classArena = ColumnArena(capacityBytes: 1 << 20)
    var classOrder = ScratchColumn<Int32>()
    var classSortBuffer = ScratchColumn<Int32>()
    var classNext = ScratchColumn<Int32>()
    private var nextRun: [Int32] = []
    private var groupFingerprint: [UInt64] = []
    private var groupFirstRun: [Int32] = []
    private var groupLastRun: [Int32] = []
    private var nextSameFingerprint: [Int32] = []
    private var firstGroupByFingerprint: [UInt64: Int32] = [:]
    /// Creation index (into `groupLabels`) of each emitted group, in emission order.
    private var emittedGroup: [Int32] = []
    private var builder = LabelBuilder()
    private var mergeIndex: [UInt64: Int32] = [:]

    /// True when the whole profile is ingested as is (path c).
    private(set) var isWholeProfile = false
    /// True when the last split found every sample labelled like sample 0 (one label-set class).
    private(set) var hasOneLabelSet = false
    /// The groups' label sets: copies of label strings, one per group, so a profile can ask for
    /// far more bytes than it holds (one long string under many distinct label sets). They
    /// live in an arena of their own, bounded, emptied by every split.
    private(set) var groupLabels: LabelSetArena
    private let labelArena: ColumnArena
    /// What the split ran out of (the groups' label sets did not fit in `labelBytesMax`, or the
    /// class index got no room), or nil: when set, the split stopped and the push must be refused.
    var exhausted: String?
    private(set) var groupSampleStart: [Int32] = []
    private(set) var groupSampleCount: [Int32] = []
    private(set) var groupSamples: [Int32] = []
    /// Sample values (`typeCount` per source sample), summed where groups merged: a copy of
    /// the profile's column made by the first merge (`valuesCopied`); until then the profile's.
    private var values = ScratchColumn<Int64>()
    private var valuesCopied = false

    var groupCount: Int { groupSampleStart.count }

    /// `labelBytesMax`: room for the label sets of one profile's groups (below 4 GiB: label
    /// offsets are 32-bit).
    init(labelBytesMax: Int) {
        precondition(labelBytesMax > 0 && labelBytesMax < Int(UInt32.max), "label arena size out of range")
        labelArena = ColumnArena(capacityBytes: labelBytesMax)
        groupLabels = LabelSetArena(in: labelArena)
        classIndex = SlotIndex(in: classArena)
    }

    var labelBytesMax: Int { labelArena.capacityBytes }

    /// The label set (in `groupLabels`) of emitted group `g`.
    func labelSet(ofGroup g: Int) -> Int { Int(emittedGroup[g]) }

    mutating func split(_ p: PprofTables, keys: SpecialLabelKeys, requestLabels: LabelBuilder) {
        reset()
        order.reset(count: p.sampleCount)
        let identity = order.mutableElements
        for s in identity.indices { identity[s] = Int32(truncatingIfNeeded: s) }
        // No sample labels at all (most profiles): one run without labels, path c.
        if p.sampleLabels.isEmpty {
            if p.sampleCount > 0 { wholeProfile(requestLabels) }
            return
        }
        hasOneLabelSet = samplesShareFirstLabelSet(p, keys)
        if hasOneLabelSet {
            // One class (common: `heap`, one numeric label per sample): every sample reads
            // sample 0's list, the order stays the identity, one run; no hashing, sort or placement.
            collectGroupingLabels(p, keys, sampleCount: 1)
            labelStart.resize(toAtLeast: p.sampleCount, fill: labelStart[0])
            labelCount.resize(toAtLeast: p.sampleCount, fill: labelCount[0])
            runStart.append(0)
        } else {
            collectGroupingLabels(p, keys, sampleCount: p.sampleCount)
            // Samples by grouping labels, stable (§2.2 b), and the runs of equal labels.
            guard orderByLabelSet(sampleCount: p.sampleCount) else { return }
            if runStart.isEmpty { return }
        }
        if runStart.count == 1 && labelCount[Int(order[0])] == 0 {
            wholeProfile(requestLabels)
        } else {
            splitGroups(p, keys, requestLabels)
        }
    }

    private mutating func reset() {
        labelStart.removeAll()
        labelCount.removeAll()
        labelKey.removeAll()
        labelStr.removeAll()
        order.removeAll()
        runStart.removeAll(keepingCapacity: true)
        nextRun.removeAll(keepingCapacity: true)
        groupFingerprint.removeAll(keepingCapacity: true)
        groupFirstRun.removeAll(keepingCapacity: true)
        groupLastRun.removeAll(keepingCapacity: true)
        nextSameFingerprint.removeAll(keepingCapacity: true)
        firstGroupByFingerprint.removeAll(keepingCapacity: true)
        emittedGroup.removeAll(keepingCapacity: true)
        labelArena.reset()
        groupLabels.reset()
        exhausted = nil
        groupSampleStart.removeAll(keepingCapacity: true)
        groupSampleCount.removeAll(keepingCapacity: true)
        groupSamples.removeAll(keepingCapacity: true)
        values.removeAll()
        valuesCopied = false
        isWholeProfile = false
        hasOneLabelSet = false
    }

    /// True when every sample's grouping labels are sample 0's: at each position of its list
    /// the same (key, str), or labels not grouped on (span, trace) in both. Sufficient, not
    /// necessary: a sample listing the same labels in another order takes the general path.
    private func samplesShareFirstLabelSet(_ p: PprofTables, _ keys: SpecialLabelKeys) -> Bool {
        let starts = p.sampleLabelStarts, labels = p.sampleLabels, n = p.sampleCount
        guard n > 0 else { return false }
        let first = Int(starts[0]), width = Int(starts[1]) - first
        // Every sample lists `width` labels, so sample s's start at first + s × width…
        var start = first, s = 1
        while s <= n {
            start &+= width
            if Int(starts[s]) != start { return false }
            s &+= 1
        }
        // …and label l of the column is compared with label (l - first) mod width of sample 0.
        // (While loops with wrapping steps: the range loops kept overflow checks.)
        var k = first, l = first &+ width
        while l < start {
            let a = labels[k], b = labels[l]
            if !(a.key == b.key && a.str == b.str),
               !(keys.isHidden(a.key) && keys.isHidden(b.key)) { return false }
            k = k &+ 1 == first &+ width ? first : k &+ 1
            l &+= 1
        }
        return true
    }

    /// Step b: the labels of each of the first `n` samples without hidden ones, sorted by
    /// (key idx, str idx). The label columns are sized to their bound (one label per source
    /// label) and trimmed.
    private mutating func collectGroupingLabels(_ p: PprofTables, _ keys: SpecialLabelKeys, sampleCount n: Int) {
        let labelStarts = p.sampleLabelStarts, labels = p.sampleLabels
        let labelsMax = Int(labelStarts[n]) - Int(labelStarts[0])
        labelStart.reset(count: n)
        labelCount.reset(count: n)
        labelKey.reset(count: labelsMax)
        labelStr.reset(count: labelsMax)
        let starts = labelStart.mutableElements, counts = labelCount.mutableElements
        let names = labelKey.mutableElements, values = labelStr.mutableElements
        var used = 0
        for s in 0 ..< n {
            let start = used
            for l in Int(labelStarts[s]) ..< Int(labelStarts[s + 1]) {
                let key = labels[l].key
                if keys.isHidden(key) { continue }
                // Numeric labels compare as str 0 (`num` is ignored).
                let str = labels[l].str
                var j = used
                while j > start && (names[j - 1] > key || (names[j - 1] == key && values[j - 1] > str)) {
                    names[j] = names[j - 1]
                    values[j] = values[j - 1]
                    j -= 1
                }
                names[j] = key
                values[j] = str
                used += 1
            }
            starts[s] = Int32(start)
            counts[s] = Int32(used - start)
        }
        labelKey.truncate(to: used)
        labelStr.truncate(to: used)
    }

    /// True when samples `a` and `b` have the same grouping labels.
    @inline(__always)
    func sameLabels(_ a: Int, _ b: Int) -> Bool {
        let n = Int(labelCount[a])
        guard n == Int(labelCount[b]) else { return false }
        let sa = Int(labelStart[a]), sb = Int(labelStart[b])
        let names = labelKey.elements, values = labelStr.elements
        for k in 0 ..< n where names[sa + k] != names[sb + k] || values[sa + k] != values[sb + k] {
            return false
        }
        return true
    }

    func compareLabels(_ a: Int, _ b: Int) -> Int {
        let sa = Int(labelStart[a]), na = Int(labelCount[a])
        let sb = Int(labelStart[b]), nb = Int(labelCount[b])
        let names = labelKey.elements, values = labelStr.elements
        for k in 0 ..< min(na, nb) {
            if names[sa + k] != names[sb + k] { return names[sa + k] < names[sb + k] ? -1 : 1 }
            if values[sa + k] != values[sb + k] { return values[sa + k] < values[sb + k] ? -1 : 1 }
        }
        return na == nb ? 0 : (na < nb ? -1 : 1)
    }

    /// Path c: one group, the request labels (empty values removed, sorted by name).
    private mutating func wholeProfile(_ requestLabels: LabelBuilder) {
        isWholeProfile = true
        builder.assign(requestLabels)
        builder.removeEmptyValues()
        builder.sortByName()
        guard roomForGroupLabels() else { return }
        groupLabels.append(builder)
        emittedGroup.append(0)
        groupSampleStart.append(0)
        groupSampleCount.append(Int32(order.count))
        groupSamples.append(contentsOf: order.elements)
    }

    /// Path d: label set per run, runs with equal sets merged, visited in order of first
    /// appearance of their fingerprint (then creation order among fingerprint collisions).
    /// Linear in the number of runs: groups are found through a fingerprint map and chains.
    private mutating func splitGroups(_ p: PprofTables, _ keys: SpecialLabelKeys, _ requestLabels: LabelBuilder) {
        for r in 0 ..< runStart.count {
            let first = Int(order[Int(runStart[r])])
            builder.assign(requestLabels)
            let ls = Int(labelStart[first])
            for l in ls ..< ls + Int(labelCount[first]) where labelStr[l] > 0 {
                let name = p.string(labelKey[l])
                if builder.hasNonEmptyValue(name) { continue }
                builder.set(name: name, value: p.string(labelStr[l]))
            }
            builder.removeEmptyValues()
            builder.sortByName()
            guard let g = findOrCreateGroup(fingerprint: builder.fingerprint()) else { return }
            nextRun.append(-1)
            if groupLastRun[g] >= 0 { nextRun[Int(groupLastRun[g])] = Int32(r) } else { groupFirstRun[g] = Int32(r) }
            groupLastRun[g] = Int32(r)
        }
        for g in 0 ..< groupFingerprint.count where firstGroupByFingerprint[groupFingerprint[g]] == Int32(g) {
            var k = Int32(g)
            while k >= 0 {
                emitGroup(Int(k), p, keys)
                k = nextSameFingerprint[Int(k)]
            }
        }
        precondition(emittedGroup.count == groupFingerprint.count, "every merged group is emitted once")
    }

    /// The builder's set fits in the label arena; else the split is marked as exceeded.
    private mutating func roomForGroupLabels() -> Bool {
        if groupLabels.bytesToAppend(builder) <= labelArena.remainingBytes { return true }
        exhausted = "the label sets of the profile's sample groups exceed \(labelBytesMax) bytes"
        return false
    }

    /// The group with the builder's labels, created when new; nil when its labels do not fit.
    private mutating func findOrCreateGroup(fingerprint fp: UInt64) -> Int? {
        var last: Int32 = -1
        var k = firstGroupByFingerprint[fp] ?? -1
        while k >= 0 {
            if groupLabels.equals(Int(k), builder) { return Int(k) }
            last = k
            k = nextSameFingerprint[Int(k)]
        }
        guard roomForGroupLabels() else { return nil }
        let g = groupLabels.append(builder)
        groupFingerprint.append(fp)
        nextSameFingerprint.append(-1)
        groupFirstRun.append(-1)
        groupLastRun.append(-1)
        if last >= 0 { nextSameFingerprint[Int(last)] = Int32(g) } else { firstGroupByFingerprint[fp] = Int32(g) }
        return g
    }

    /// Appends the samples of every run of group `g`; a later run's sample with the same
    /// (locations, trace str, span str) as an earlier one adds its values to it instead.
    private mutating func emitGroup(_ g: Int, _ p: PprofTables, _ keys: SpecialLabelKeys) {
        let start = groupSamples.count
        var runs = 0
        mergeIndex.removeAll(keepingCapacity: true)
        var r = Int(groupFirstRun[g])
        while r >= 0 {
            defer { r = Int(nextRun[r]) }
            let from = Int(runStart[r])
            let to = r + 1 < runStart.count ? Int(runStart[r + 1]) : order.count
            runs += 1
            if runs == 1 {
                groupSamples.append(contentsOf: order.elements[from ..< to])
                continue
            }
            if runs == 2 {
                for k in start ..< groupSamples.count { mergeIndex[mergeKey(Int(groupSamples[k]), p, keys)] = Int32(k) }
            }
            for k in from ..< to {
                let s = Int(order[k])
                let key = mergeKey(s, p, keys)
                if let at = mergeIndex[key], sameMergeKey(Int(groupSamples[Int(at)]), s, p, keys) {
                    let target = Int(groupSamples[Int(at)])
                    if !valuesCopied { copyValues(p) }
                    for t in 0 ..< p.typeCount {
                        values[target * p.typeCount + t] &+= values[s * p.typeCount + t]
                    }
                } else {
                    groupSamples.append(Int32(s))
                    mergeIndex[key] = Int32(groupSamples.count - 1)
                }
            }
        }
        emittedGroup.append(Int32(g))
        groupSampleStart.append(Int32(start))
        groupSampleCount.append(Int32(groupSamples.count - start))
    }

    /// The sample values after merging (`typeCount` per source sample) of the last split of `p`.
    func values(of p: PprofTables) -> UnsafeBufferPointer<Int64> { valuesCopied ? values.elements : p.sampleValues }

    /// Copies the profile's values before a merge changes one.
    private mutating func copyValues(_ p: PprofTables) {
        values.reset(count: p.sampleValues.count)
        _ = values.mutableElements.update(fromContentsOf: p.sampleValues)
        valuesCopied = true
    }

    /// A sample's trace and span label string indices as `sampleKeyFromSample` sees them: it
    /// keeps the last of each, over the labels grouping left on the sample, which are in
    /// descending (key, str) order, so the lowest string index; 0 when there is none.
    private func traceAndSpan(_ s: Int, _ p: PprofTables, _ keys: SpecialLabelKeys) -> (Int64, Int64) {
        var trace = Int64.max, span = Int64.max
        for l in Int(p.sampleLabelStarts[s]) ..< Int(p.sampleLabelStarts[s + 1]) {
            if keys.isTrace(p.sampleLabels[l].key) { trace = min(trace, p.sampleLabels[l].str) }
            if keys.isSpan(p.sampleLabels[l].key) { span = min(span, p.sampleLabels[l].str) }
        }
        return (trace == .max ? 0 : trace, span == .max ? 0 : span)
    }

    private func mergeKey(_ s: Int, _ p: PprofTables, _ keys: SpecialLabelKeys) -> UInt64 {
        let (trace, span) = traceAndSpan(s, p, keys)
        var h = HashMix.mix(UInt64(bitPattern: trace), UInt64(bitPattern: span))
        for k in Int(p.sampleLocationStarts[s]) ..< Int(p.sampleLocationStarts[s + 1]) { h = HashMix.mix(h, p.sampleLocationIDs[k]) }
        return h
    }

    /// Exact comparison behind a hash hit; a hash collision is treated as a new sample.
    private func sameMergeKey(_ a: Int, _ b: Int, _ p: PprofTables, _ keys: SpecialLabelKeys) -> Bool {
        let sa = Int(p.sampleLocationStarts[a]), sb = Int(p.sampleLocationStarts[b])
        let n = Int(p.sampleLocationStarts[a + 1]) - sa
        guard traceAndSpan(a, p, keys) == traceAndSpan(b, p, keys),
              Int(p.sampleLocationStarts[b + 1]) - sb == n else { return false }
        for k in 0 ..< n where p.sampleLocationIDs[sa + k] != p.sampleLocationIDs[sb + k] {
            return false
        }
        return true
    }
}
