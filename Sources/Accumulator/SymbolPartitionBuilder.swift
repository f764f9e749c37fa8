import BinaryCoding
import SymbolDB

/// A mapping as stored in symdb (symdb.md §3.3): every field is part of the dedup key.
struct PartitionMapping: Equatable {
    var memoryStart: UInt64
    var memoryLimit: UInt64
    var fileOffset: UInt64
    var filename: UInt32
    var buildID: UInt32
    var hasFunctions: Bool
    var hasFilenames: Bool
    var hasLineNumbers: Bool
    var hasInlineFrames: Bool

    /// An in-memory dedup hash over every field (equality is checked on the whole record).
    var dedupHash: UInt64 {
        let flags = UInt64(hasFunctions ? 1 : 0) | UInt64(hasFilenames ? 2 : 0)
            | UInt64(hasLineNumbers ? 4 : 0) | UInt64(hasInlineFrames ? 8 : 0)
        var h = HashMix.mix(memoryStart, memoryLimit)
        h = HashMix.mix(h, fileOffset)
        return HashMix.mix(h, UInt64(filename) << 32 | UInt64(buildID) ^ flags << 60)
    }
}

/// A function as stored in symdb: (name, system_name, filename, uint32(start_line)).
struct PartitionFunction: Equatable {
    var name: UInt32
    var systemName: UInt32
    var filename: UInt32
    var startLine: UInt32

    var dedupHash: UInt64 {
        HashMix.mix(UInt64(name) << 32 | UInt64(systemName), UInt64(filename) << 32 | UInt64(startLine))
    }
}

/// The symbols of one dataset's partition 0, deduplicated across every profile ingested
/// since the last reset (symdb.md §3.3–§3.4). Tables are append-only first-occurrence
/// dictionaries; ids are table positions. Columns keep their capacity across `reset()`.
struct SymbolPartitionBuilder {
    var strings = StringTable()
    private(set) var mappings: [PartitionMapping] = []
    private var mappingIndex = SlotIndex()
    private(set) var functions: [PartitionFunction] = []
    private var functionIndex = SlotIndex()

    // Locations, columnar; lines of location i are lines[lineStart[i] ..< lineStart[i] + lineCount[i]].
    private(set) var locationMapping: [UInt32] = []
    private(set) var locationAddress: [UInt64] = []
    private(set) var locationFolded: [Bool] = []
    private(set) var locationLineStart: [UInt32] = []
    private(set) var locationLineCount: [UInt32] = []
    private(set) var lineFunction: [UInt32] = []
    private(set) var lineNumber: [Int32] = []
    private var locationHashes: [UInt64] = []
    private var locationIndex = SlotIndex()

    /// Stack-trace tree (symdb.md §3.4): node 0 is the root, ids are leaf nodes.
    private(set) var stackTree = StackTreeBuilder()

    init() {}


    /// Bytes held by the tables (what the memory accounting charges).
    var accumulatedBytes: Int {
        strings.byteCount + strings.count * 16
            + mappings.count * MemoryLayout<PartitionMapping>.stride * 2
            + functions.count * MemoryLayout<PartitionFunction>.stride * 2
            + locationMapping.count * 33 + lineFunction.count * 8
            + stackTree.nodeCount * 17
    }

    var reservedBytes: Int {
        strings.reservedBytes + mappings.capacity * MemoryLayout<PartitionMapping>.stride
            + functions.capacity * MemoryLayout<PartitionFunction>.stride + locationMapping.capacity * 33
            + lineFunction.capacity * 8
    }

    mutating func reset() {
        strings.reset()
        mappings.removeAll(keepingCapacity: true)
        mappingIndex.reset()
        functions.removeAll(keepingCapacity: true)
        functionIndex.reset()
        locationMapping.removeAll(keepingCapacity: true)
        locationAddress.removeAll(keepingCapacity: true)
        locationFolded.removeAll(keepingCapacity: true)
        locationLineStart.removeAll(keepingCapacity: true)
        locationLineCount.removeAll(keepingCapacity: true)
        lineFunction.removeAll(keepingCapacity: true)
        lineNumber.removeAll(keepingCapacity: true)
        stagedLineStart = 0
        locationHashes.removeAll(keepingCapacity: true)
        locationIndex.reset()
        stackTree.removeAll()
    }

    // Open addressing over a cheap mix instead of `Dictionary`, whose SipHash of the whole
    // record was a measurable share of interning.
    mutating func internMapping(_ m: PartitionMapping) -> UInt32 {
        let h = m.dedupHash
        var slot = mappingIndex.firstSlot(h)
        while true {
            let e = mappingIndex.entry(at: slot)
            if e < 0 { break }
            if mappings[e] == m { return UInt32(e) }
            slot = mappingIndex.nextSlot(slot)
        }
        mappings.append(m)
        mappingIndex.insert(mappings.count - 1, hash: h, at: slot)
        return UInt32(mappings.count - 1)
    }

    mutating func internFunction(_ f: PartitionFunction) -> UInt32 {
        let h = f.dedupHash
        var slot = functionIndex.firstSlot(h)
        while true {
            let e = functionIndex.entry(at: slot)
            if e < 0 { break }
            if functions[e] == f { return UInt32(e) }
            slot = functionIndex.nextSlot(slot)
        }
        functions.append(f)
        functionIndex.insert(functions.count - 1, hash: h, at: slot)
        return UInt32(functions.count - 1)
    }

    /// Interns a location whose lines were staged with `stageLine` (already rewritten to
    /// partition function ids). `isFolded` is not part of the key: the first one is kept.
    mutating func internStagedLocation(mapping: UInt32, address: UInt64, isFolded: Bool) -> UInt32 {
        let start = Int(stagedLineStart)
        let n = lineFunction.count - start
        var h = HashMix.mix(UInt64(mapping) ^ UInt64(n) << 32, address)
        for j in start ..< lineFunction.count {
            h = HashMix.mix(h, UInt64(lineFunction[j]) << 32 | UInt64(UInt32(bitPattern: lineNumber[j])))
        }
        var slot = locationIndex.firstSlot(h)
        while true {
            let e = locationIndex.entry(at: slot)
            if e < 0 { break }
            if locationHashes[e] == h, locationEquals(e, mapping: mapping, address: address, lineStart: start, lineCount: n) {
                dropStagedLines()
                return UInt32(e)
            }
            slot = locationIndex.nextSlot(slot)
        }
        let i = locationMapping.count
        locationMapping.append(mapping)
        locationAddress.append(address)
        locationFolded.append(isFolded)
        locationLineStart.append(UInt32(start))
        locationLineCount.append(UInt32(n))
        locationHashes.append(h)
        locationIndex.insert(i, hash: h, at: slot)
        stagedLineStart = UInt32(lineFunction.count)
        return UInt32(i)
    }

    private var stagedLineStart: UInt32 = 0

    mutating func stageLine(function: UInt32, line: Int32) {
        lineFunction.append(function)
        lineNumber.append(line)
    }

    private mutating func dropStagedLines() {
        lineFunction.removeSubrange(Int(stagedLineStart)...)
        lineNumber.removeSubrange(Int(stagedLineStart)...)
    }

    private func locationEquals(_ e: Int, mapping: UInt32, address: UInt64, lineStart: Int, lineCount: Int) -> Bool {
        guard locationMapping[e] == mapping, locationAddress[e] == address,
              Int(locationLineCount[e]) == lineCount else { return false }
        let s = Int(locationLineStart[e])
        for j in 0 ..< lineCount where lineFunction[s + j] != lineFunction[lineStart + j] || lineNumber[s + j] != lineNumber[lineStart + j] {
            return false
        }
        return true
    }

    /// Inserts each sample's stack (source location indices, leaf first, read through `map`
    /// to partition location ids) and writes its stack-trace id to `ids`.
    mutating func insertStacks(samples: UnsafeBufferPointer<Int32>, starts: UnsafeBufferPointer<UInt32>,
                               frames: UnsafeBufferPointer<UInt32>, map: UnsafeBufferPointer<UInt32>,
                               ids: UnsafeMutableBufferPointer<UInt32>) {
        stackTree.insert(samples: samples, starts: starts, frames: frames, map: map, ids: ids)
    }

    /// True when some location's mapping lacks function info (segment-object.md §6.2).
    /// A location that points past an empty mappings table (raw input without mappings)
    /// counts as unsymbolized; upstream would crash on it.
    var hasUnsymbolizedLocations: Bool {
        for m in locationMapping {
            if Int(m) >= mappings.count || !mappings[Int(m)].hasFunctions { return true }
        }
        return false
    }
}
