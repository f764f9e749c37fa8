import Arena

/// Open-addressing index (linear probing, power-of-two slots) from a 64-bit hash to an
/// entry number of some column store. The caller probes and compares keys itself so the
/// inner loop stays free of closures. A slot is 8 bytes: the low 32 bits of its entry's hash
/// beside the entry. A probe rejects most non-matching entries without reading the column
/// store, an insert is one store, `grow` rehashes from the slots alone (slot positions use
/// no more than the low 32 bits), and twice as many slots share a cache line as with the
/// whole hash kept.
///
/// The slots are a table in the shard's `ColumnArena` (column count == slot count, free slots
/// 0). A new index has no table (it probes one shared free slot) and takes its first, of
/// `initialSlots`, at its first insert; growth re-hashes into a new block twice as large.
struct SlotIndex {
    private var slots: ArenaColumn<UInt64>
    /// `slots.base`, or the shared free slot while there is no table.
    private var table: UnsafeMutablePointer<UInt64>
    private var mask = 0
    private(set) var count = 0

    static let initialSlots = 64

    /// One slot, always 0: what an index without a table probes (never written).
    nonisolated(unsafe) private static let noTable: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    init(in arena: ColumnArena) {
        slots = ArenaColumn(in: arena)
        table = Self.noTable
    }

    /// Bytes of the table.
    var byteCount: Int { slots.byteCount }
    var reservedBytes: Int { slots.reservedBytes }

    /// Empties the index. The table keeps its size (zero-filled); after the arena's reset it
    /// is a fresh block of that size.
    mutating func reset() {
        let n = slots.count
        slots.reset()
        slots.append(repeating: 0, count: n)
        table = n > 0 ? slots.base : Self.noTable
        count = 0
    }

    @inline(__always) func firstSlot(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }
    @inline(__always) func nextSlot(_ slot: Int) -> Int { (slot &+ 1) & mask }

    /// The entry at `slot`, or -1 when the slot is free (the probe ends there).
    @inline(__always) func entry(at slot: Int) -> Int { Int(UInt32(truncatingIfNeeded: table[slot])) &- 1 }

    /// True when the entry at an occupied `slot` may have `hash` (its low 32 bits match).
    @inline(__always) func mayMatch(_ hash: UInt64, at slot: Int) -> Bool {
        UInt32(truncatingIfNeeded: table[slot] >> 32) == UInt32(truncatingIfNeeded: hash)
    }

    /// Stores `entry` at the free `slot` found by the caller's probe.
    @inline(__always)
    mutating func insert(_ entry: Int, hash: UInt64, at slot: Int) {
        precondition(entry < Int(UInt32.max), "SlotIndex holds fewer than 2^32 - 1 entries")
        var slot = slot
        if slots.isEmpty {
            moveToTable(slotCount: Self.initialSlots)
            slot = firstSlot(hash)
        }
        precondition(table[slot] == 0, "SlotIndex.insert into an occupied slot")
        table[slot] = UInt64(truncatingIfNeeded: hash) << 32 | UInt64(entry &+ 1)
        // Wrapping arithmetic: the count is below 2^32 (checked above), so nothing overflows,
        // and the checks were a share of an insert.
        count &+= 1
        // Load at most 1/2: with linear probing a miss (every new entry) probes ~2.5 slots
        // there, ~8.5 at 3/4.
        if count &* 2 >= slots.count { moveToTable(slotCount: slots.count * 2) }
    }

    /// Reads the table once in order when about `probes` lookups are coming and would reach an
    /// eighth of its cache lines or more. A probe lands on a random line: once the table has
    /// left the cache (after a flush, other datasets' pushes) nearly every new symbol waited
    /// on a miss, 70–85 % of the location interning under `perf`. One sequential sweep
    /// (streamed by the hardware prefetcher) costs far less than those misses, and a 1 MiB L2
    /// holds the largest tables of a segment like the corpus (256 KiB).
    func preload(forProbes probes: Int) {
        guard probes &* 64 >= slots.count else { return }
        slots.readEveryCacheLine()
    }

    /// Arena bytes `n` more inserts may take (the first table and every doubling on the way).
    func bytesToInsert(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        var slotCount = slots.count, bytes = 0
        if slotCount == 0 {
            slotCount = Self.initialSlots
            bytes += ColumnArena.blockBytes(slotCount * 8)
        }
        while (count + n) * 2 >= slotCount {
            slotCount *= 2
            bytes += ColumnArena.blockBytes(slotCount * 8)
        }
        return bytes
    }

    /// Re-hashes every entry into a new zero-filled table of `slotCount` slots.
    private mutating func moveToTable(slotCount: Int) {
        let old = slots
        slots = ArenaColumn(in: old.arena, capacity: slotCount)
        slots.append(repeating: 0, count: slotCount)
        table = slots.base
        mask = slotCount - 1
        for s in old.buffer where s != 0 {
            var i = firstSlot(s >> 32)
            while table[i] != 0 { i = nextSlot(i) }
            table[i] = s
        }
    }
}
