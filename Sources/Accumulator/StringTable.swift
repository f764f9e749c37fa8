import Arena
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// First-occurrence string dictionary of one symbols partition (symdb.md §3.3), in columns of
/// the shard's `ColumnArena`.
///
/// Strings live back to back in one byte column; an open-addressing index maps a hash to the
/// string's position (an in-memory hash, never written out: `HashMix.bytes`). Interning a
/// string that is already present allocates nothing; a new one is one copy to the column's
/// end. String 0 is always "" (the partition starts as `[""]`): it takes no room and is never
/// hashed, so a new table takes nothing from the arena until its first non-empty string.
struct StringTable {
    /// The strings' bytes back to back.
    private var data: ArenaColumn<UInt8>
    /// `ends[i]` is the end offset of string `i` in `data`; string `i` starts at `ends[i-1]`.
    /// Empty until the first non-empty string, which appends `ends[0] = 0` for "" first.
    private var ends: ArenaColumn<Int>
    private var index: SlotIndex

    init(in arena: ColumnArena) {
        data = ArenaColumn(in: arena)
        ends = ArenaColumn(in: arena)
        index = SlotIndex(in: arena)
    }

    var count: Int { max(ends.count, 1) }
    /// Bytes the table's columns hold (strings, ends, index).
    var byteCount: Int { data.byteCount + ends.byteCount + index.byteCount }
    /// Bytes of the columns' blocks.
    var reservedBytes: Int { data.reservedBytes + ends.reservedBytes + index.reservedBytes }

    /// The strings' bytes back to back (a copy, for the writer).
    var bytes: [UInt8] { Array(data.buffer) }
    /// The end offsets of the strings (a copy, for the writer).
    var endOffsets: [Int] { ends.isEmpty ? [0] : Array(ends.buffer) }

    /// Empties the table (the partition starts as `[""]` again); after the arena's reset the
    /// columns take fresh blocks (`ArenaColumn.reset()`).
    mutating func reset() {
        data.reset()
        ends.reset()
        index.reset()
    }

    /// Arena bytes interning up to `strings` new strings of `bytes` bytes in all may take.
    func bytesToIntern(strings: Int, bytes: Int) -> Int {
        guard strings > 0 else { return 0 }
        return data.bytesToReserve(additional: bytes) + ends.bytesToReserve(additional: strings + 1)
            + index.bytesToInsert(strings)
    }

    /// Reads the index into the cache when about `n` strings are coming (`SlotIndex.preload`).
    func preload(forProbes n: Int) { index.preload(forProbes: n) }

    /// The partition index of `s`, appending it when new. Inlined into its two loops (path c's
    /// walk of the string table, the exporter's visit): a call per kept string was measurable.
    @inline(__always)
    mutating func intern(_ s: UnsafeRawBufferPointer) -> UInt32 {
        let n = s.count
        if n == 0 { return 0 }
        let h = HashMix.bytes(s)
        var slot = index.firstSlot(h)
        while true {
            let entry = index.entry(at: slot)
            if entry < 0 { break }
            if index.mayMatch(h, at: slot), equals(entry, s) { return UInt32(entry) }
            slot = index.nextSlot(slot)
        }
        if ends.isEmpty { ends.append(0) }
        let i = ends.count
        data.append(contentsOf: s.assumingMemoryBound(to: UInt8.self))
        ends.append(data.count)
        index.insert(i, hash: h, at: slot)
        return UInt32(i)
    }

    /// `entry` > 0 (string 0 is not in the index).
    private func equals(_ entry: Int, _ s: UnsafeRawBufferPointer) -> Bool {
        let start = ends.base[entry &- 1], end = ends.base[entry]
        return end &- start == s.count && memcmp(data.base + start, s.baseAddress!, s.count) == 0
    }
}
