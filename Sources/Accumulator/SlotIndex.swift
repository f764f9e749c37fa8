/// Open-addressing index (linear probing, power-of-two slots) from a 64-bit hash to an
/// entry number of some column store. The caller probes and compares keys itself so the
/// inner loop stays free of closures. A slot keeps its entry's hash beside the entry: a probe
/// rejects most non-matching entries without reading the column store, an insert is one
/// store, and `grow` rehashes from the slots alone.
struct SlotIndex {
    private struct Slot {
        var hash: UInt64 = 0
        /// Entry + 1, or 0 when free.
        var entry: UInt32 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 64)
    private(set) var count = 0

    private var mask: Int { slots.count - 1 }

    mutating func reset() {
        if count > 0 {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: Slot()) }
        }
        count = 0
    }

    @inline(__always) func firstSlot(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }
    @inline(__always) func nextSlot(_ slot: Int) -> Int { (slot + 1) & mask }

    /// The entry at `slot`, or -1 when the slot is free (the probe ends there).
    @inline(__always) func entry(at slot: Int) -> Int { Int(slots[slot].entry) - 1 }

    /// The hash of the entry at an occupied `slot`.
    @inline(__always) func hash(at slot: Int) -> UInt64 { slots[slot].hash }

    /// Stores `entry` at the free `slot` found by the caller's probe.
    @inline(__always)
    mutating func insert(_ entry: Int, hash: UInt64, at slot: Int) {
        precondition(slots[slot].entry == 0, "SlotIndex.insert into an occupied slot")
        slots[slot] = Slot(hash: hash, entry: UInt32(entry + 1))
        count += 1
        // Load at most 1/2: with linear probing a miss (every new entry) probes ~2.5 slots
        // there, ~8.5 at 3/4.
        if count * 2 >= slots.count { grow() }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        for s in old where s.entry != 0 {
            var i = firstSlot(s.hash)
            while slots[i].entry != 0 { i = nextSlot(i) }
            slots[i] = s
        }
    }
}
