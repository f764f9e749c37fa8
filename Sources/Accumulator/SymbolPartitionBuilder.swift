import Arena
import BinaryCoding
import Pprof
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

/// A location of the partition: lines `lineStart ..< lineStart + lineCount` of the line
/// records. `isFolded` is not part of the key.
struct PartitionLocation {
    var address: UInt64
    var mapping: UInt32
    var lineStart: UInt32
    var lineCount: UInt32
    var isFolded: Bool
}

/// A location line: partition function id and line number (int32, wrapped).
struct PartitionLine: Equatable {
    var function: UInt32
    var line: Int32
}

/// The symbols of one dataset's partition 0, deduplicated across every profile ingested
/// since the last reset (symdb.md §3.3–§3.4). Tables are append-only first-occurrence
/// dictionaries; ids are table positions. Every column is an `ArenaColumn` of the shard's
/// arena; the tables take nothing from it until their first push (the stack tree takes its
/// first blocks when made, `StackTreeBuilder.init(in:expectedNodes:)`).
struct SymbolPartitionBuilder {
    var strings: StringTable
    private(set) var mappings: ArenaColumn<PartitionMapping>
    private var mappingIndex: SlotIndex
    private(set) var functions: ArenaColumn<PartitionFunction>
    private var functionIndex: SlotIndex

    // Locations, columnar; lines of location i are lines[lineStart[i] ..< lineStart[i] + lineCount[i]].
    // One record per location and per line: a new location costs one append each, not one
    // per column (the columns the writer takes are derived at flush).
    private var locations: ArenaColumn<PartitionLocation>
    private var lines: ArenaColumn<PartitionLine>
    private var locationIndex: SlotIndex

    /// Stack-trace tree (symdb.md §3.4): node 0 is the root, ids are leaf nodes.
    private(set) var stackTree: StackTreeBuilder

    init(in arena: ColumnArena) {
        strings = StringTable(in: arena)
        mappings = ArenaColumn(in: arena)
        mappingIndex = SlotIndex(in: arena)
        functions = ArenaColumn(in: arena)
        functionIndex = SlotIndex(in: arena)
        locations = ArenaColumn(in: arena)
        lines = ArenaColumn(in: arena)
        locationIndex = SlotIndex(in: arena)
        stackTree = StackTreeBuilder(in: arena)
    }

    /// Bytes of data the tables hold (what the memory accounting charges): the columns'
    /// counts, the index tables whole.
    var accumulatedBytes: Int {
        strings.byteCount + mappings.byteCount + mappingIndex.byteCount + functions.byteCount
            + functionIndex.byteCount + locations.byteCount + lines.byteCount + locationIndex.byteCount
            + stackTree.byteCount
    }

    /// Bytes of the columns' blocks.
    var reservedBytes: Int {
        strings.reservedBytes + mappings.reservedBytes + mappingIndex.reservedBytes + functions.reservedBytes
            + functionIndex.reservedBytes + locations.reservedBytes + lines.reservedBytes + locationIndex.reservedBytes
            + stackTree.reservedBytes
    }

    /// Empties the tables. Within a segment the columns keep their blocks; after the arena's
    /// reset they take fresh ones as large as their last count (index tables: their size).
    mutating func reset() {
        strings.reset()
        mappings.reset()
        mappingIndex.reset()
        functions.reset()
        functionIndex.reset()
        locations.reset()
        lines.reset()
        locationIndex.reset()
        stackTree.reset()
    }

    /// An upper bound of the arena bytes one push of `p` may take, whole or split into any
    /// number of groups. Only strings of `p`'s table are interned (blanked ones and a renamed
    /// "span_id" past the table never are), and within a push a source string, mapping,
    /// function or location always makes the same record (its ids come from the push's maps),
    /// so at most one new entry per source entry: `p.strings.count` strings of at most their
    /// summed lengths, and so on, a new location's lines appended once (path c walks each table once, path d memoises per push in
    /// `IngestScratch`, so lookups are not even repeated). Each sample's stack is inserted once.
    /// Each column's growth to that many more entries is bounded by `ArenaColumn.bytesToReserve(additional:)`,
    /// each index's by `SlotIndex.bytesToInsert`, the tree's by `StackTreeBuilder.bytesToInsert`.
    ///
    /// The locations' lines are `p.lines` (each location owns a range of it), so their count is
    /// read, not summed: the sum streamed the whole location table (48 B a record) per push.
    /// The string lengths are summed with wrapping adds, which vectorize (an `UInt32` length
    /// per entry cannot overflow the sum).
    ///
    /// `newNodes`, when given, bounds the tree nodes the push's stacks can add (see
    /// `StackTreeBuilder.distinctPrefixes`); by default each frame may add one.
    func bytesToIngest(_ p: PprofTables, newNodes: Int? = nil) -> Int {
        var stringBytes = 0
        for s in p.strings { stringBytes &+= Int(s.length) }
        let lineCount = p.lines.count
        var deepest: UInt32 = 0
        let starts = p.sampleLocationStarts
        for s in starts.indices.dropFirst() { deepest = max(deepest, starts[s] &- starts[s - 1]) }
        return strings.bytesToIntern(strings: p.strings.count, bytes: stringBytes)
            + mappings.bytesToReserve(additional: p.mappings.count) + mappingIndex.bytesToInsert(p.mappings.count)
            + functions.bytesToReserve(additional: p.functions.count) + functionIndex.bytesToInsert(p.functions.count)
            + locations.bytesToReserve(additional: p.locations.count) + locationIndex.bytesToInsert(p.locations.count)
            + lines.bytesToReserve(additional: lineCount)
            + stackTree.bytesToInsert(frames: p.sampleLocationIndices.count, deepest: Int(deepest), newNodes: newNodes)
    }

    /// Read the indexes into the cache when about `n` functions or locations are coming
    /// (`SlotIndex.preload`).
    func preloadFunctionIndex(forProbes n: Int) { functionIndex.preload(forProbes: n) }
    func preloadLocationIndex(forProbes n: Int) { locationIndex.preload(forProbes: n) }

    // Open addressing over a cheap mix instead of `Dictionary`, whose SipHash of the whole
    // record was a measurable share of interning.
    mutating func internMapping(_ m: PartitionMapping) -> UInt32 {
        let h = m.dedupHash
        var slot = mappingIndex.firstSlot(h)
        while true {
            let e = mappingIndex.entry(at: slot)
            if e < 0 { break }
            if mappingIndex.mayMatch(h, at: slot), mappings.base[e] == m { return UInt32(e) }
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
            if functionIndex.mayMatch(h, at: slot), functions.base[e] == f { return UInt32(e) }
            slot = functionIndex.nextSlot(slot)
        }
        functions.append(f)
        functionIndex.insert(functions.count - 1, hash: h, at: slot)
        return UInt32(functions.count - 1)
    }

    /// Interns a location of `mapping` and `address` whose lines are the source `lines`, their
    /// functions read through `functionMap` (source function index → partition id). The key is
    /// hashed and compared from the source, so a known location writes nothing and a new one
    /// appends its lines once. `isFolded` is not part of the key: the first one is kept.
    mutating func internLocation(mapping: UInt32, address: UInt64, isFolded: Bool,
                                 lines source: UnsafeBufferPointer<LineRecord>,
                                 functionMap: UnsafeBufferPointer<UInt32>) -> UInt32 {
        let n = source.count
        var h = HashMix.mix(UInt64(mapping) ^ UInt64(n) << 32, address)
        for line in source {
            h = HashMix.mix(h, Self.lineKey(function: functionMap[Int(line.functionIndex)], line: line.line))
        }
        var slot = locationIndex.firstSlot(h)
        while true {
            let e = locationIndex.entry(at: slot)
            if e < 0 { break }
            if locationIndex.mayMatch(h, at: slot),
               locationEquals(e, mapping: mapping, address: address, lines: source, functionMap: functionMap) {
                return UInt32(e)
            }
            slot = locationIndex.nextSlot(slot)
        }
        let lineStart = lines.count
        lines.reserve(additional: n)
        for line in source {
            lines.append(PartitionLine(function: functionMap[Int(line.functionIndex)], line: Int32(truncatingIfNeeded: line.line)))
        }
        let i = locations.count
        locations.append(PartitionLocation(address: address, mapping: mapping, lineStart: UInt32(truncatingIfNeeded: lineStart),
                                           lineCount: UInt32(truncatingIfNeeded: n), isFolded: isFolded))
        locationIndex.insert(i, hash: h, at: slot)
        return UInt32(truncatingIfNeeded: i)
    }

    /// A stored line as one word: partition function id, line number (int32, wrapped).
    @inline(__always)
    private static func lineKey(function: UInt32, line: Int64) -> UInt64 {
        UInt64(function) << 32 | UInt64(UInt32(truncatingIfNeeded: line))
    }

    private func locationEquals(_ e: Int, mapping: UInt32, address: UInt64, lines source: UnsafeBufferPointer<LineRecord>,
                                functionMap: UnsafeBufferPointer<UInt32>) -> Bool {
        let stored = locations.base[e]
        guard stored.mapping == mapping, stored.address == address, Int(stored.lineCount) == source.count else { return false }
        let s = lines.base + Int(stored.lineStart)
        for (j, line) in source.enumerated() {
            let key = Self.lineKey(function: functionMap[Int(line.functionIndex)], line: line.line)
            if Self.lineKey(function: s[j].function, line: Int64(s[j].line)) != key { return false }
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

    /// The location and line columns as the symdb writer takes them (symdb.md §3.3).
    var locationMapping: [UInt32] { Self.column(locations) { $0.mapping } }
    var locationAddress: [UInt64] { Self.column(locations) { $0.address } }
    var locationFolded: [Bool] { Self.column(locations) { $0.isFolded } }
    var locationLineStart: [UInt32] { Self.column(locations) { $0.lineStart } }
    var locationLineCount: [UInt32] { Self.column(locations) { $0.lineCount } }
    var lineFunction: [UInt32] { Self.column(lines) { $0.function } }
    var lineNumber: [Int32] { Self.column(lines) { $0.line } }

    /// One field of every record, written straight into a new array (`map` cost several
    /// times more per element).
    private static func column<R, T>(_ records: ArenaColumn<R>, _ field: (R) -> T) -> [T] {
        let r = records.buffer
        return [T](unsafeUninitializedCapacity: r.count) { out, count in
            for i in 0 ..< r.count { (out.baseAddress! + i).initialize(to: field(r[i])) }
            count = r.count
        }
    }

    /// True when some location's mapping lacks function info (segment-object.md §6.2).
    /// A location that points past an empty mappings table (raw input without mappings)
    /// counts as unsymbolized; upstream would crash on it.
    var hasUnsymbolizedLocations: Bool {
        for location in locations.buffer {
            let m = location.mapping
            if Int(m) >= mappings.count || !mappings.base[Int(m)].hasFunctions { return true }
        }
        return false
    }
}
