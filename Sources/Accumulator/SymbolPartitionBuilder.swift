import BinaryCoding
import SymbolDB

/// A mapping as stored in symdb (symdb.md §3.3): every field is part of the dedup key.
struct MappingRecord: Hashable {
    var memoryStart: UInt64
    var memoryLimit: UInt64
    var fileOffset: UInt64
    var filename: UInt32
    var buildID: UInt32
    var hasFunctions: Bool
    var hasFilenames: Bool
    var hasLineNumbers: Bool
    var hasInlineFrames: Bool
}

/// A function as stored in symdb: (name, system_name, filename, uint32(start_line)).
struct FunctionRecord: Hashable {
    var name: UInt32
    var systemName: UInt32
    var filename: UInt32
    var startLine: UInt32
}

/// The symbols of one dataset's partition 0, deduplicated across every profile ingested
/// since the last reset (symdb.md §3.3–§3.4). Tables are append-only first-occurrence
/// dictionaries; ids are table positions. Columns keep their capacity across `reset()`.
struct SymbolPartitionBuilder {
    var strings = StringTable()
    private(set) var mappings: [MappingRecord] = []
    private var mappingIndex: [MappingRecord: UInt32] = [:]
    private(set) var functions: [FunctionRecord] = []
    private var functionIndex: [FunctionRecord: UInt32] = [:]

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
            + mappings.count * MemoryLayout<MappingRecord>.stride * 2
            + functions.count * MemoryLayout<FunctionRecord>.stride * 2
            + locationMapping.count * 33 + lineFunction.count * 8
            + stackTree.nodeCount * 17
    }

    var reservedBytes: Int {
        strings.reservedBytes + mappings.capacity * MemoryLayout<MappingRecord>.stride
            + functions.capacity * MemoryLayout<FunctionRecord>.stride + locationMapping.capacity * 33
            + lineFunction.capacity * 8
    }

    mutating func reset() {
        strings.reset()
        mappings.removeAll(keepingCapacity: true)
        mappingIndex.removeAll(keepingCapacity: true)
        functions.removeAll(keepingCapacity: true)
        functionIndex.removeAll(keepingCapacity: true)
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

    mutating func internMapping(_ m: MappingRecord) -> UInt32 {
        if let i = mappingIndex[m] { return i }
        let i = UInt32(mappings.count)
        mappings.append(m)
        mappingIndex[m] = i
        return i
    }

    mutating func internFunction(_ f: FunctionRecord) -> UInt32 {
        if let i = functionIndex[f] { return i }
        let i = UInt32(functions.count)
        functions.append(f)
        functionIndex[f] = i
        return i
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

    /// Inserts a stack of partition location ids, leaf first; returns its stack-trace id.
    mutating func insertStack(leafFirst: UnsafeBufferPointer<UInt32>) -> UInt32 {
        stackTree.insert(leafFirst: leafFirst)
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
