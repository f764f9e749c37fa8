/// Open-addressing index (linear probing, power-of-two slots) from a 64-bit hash to an
/// entry number of some column store. The caller probes and compares keys itself so the
/// inner loop stays free of closures. A slot is 8 bytes: the low 32 bits of its entry's hash
/// beside the entry. A probe rejects most non-matching entries without reading the column
/// store, an insert is one store, `grow` rehashes from the slots alone (slot positions use
/// no more than the low 32 bits), and twice as many slots share a cache line as with the
/// whole hash kept.
struct SlotIndex {
    /// Per slot: hash tag << 32 | (entry + 1); 0 when free.
    private var slots = [UInt64](repeating: 0, count: 64)
    private(set) var count = 0

    private var mask: Int { slots.count - 1 }

    mutating func reset() {
        if count > 0 {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        count = 0
    }

    @inline(__always) func firstSlot(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }
    @inline(__always) func nextSlot(_ slot: Int) -> Int { (slot + 1) & mask }

    /// The entry at `slot`, or -1 when the slot is free (the probe ends there).
    @inline(__always) func entry(at slot: Int) -> Int { Int(UInt32(truncatingIfNeeded: slots[slot])) - 1 }

    /// True when the entry at an occupied `slot` may have `hash` (its low 32 bits match).
    @inline(__always) func mayMatch(_ hash: UInt64, at slot: Int) -> Bool {
        UInt32(truncatingIfNeeded: slots[slot] >> 32) == UInt32(truncatingIfNeeded: hash)
    }

    /// Stores `entry` at the free `slot` found by the caller's probe.
    @inline(__always)
    mutating func insert(_ entry: Int, hash: UInt64, at slot: Int) {
        precondition(slots[slot] == 0, "SlotIndex.insert into an occupied slot")
        precondition(entry < Int(UInt32.max), "SlotIndex holds fewer than 2^32 - 1 entries")
        slots[slot] = UInt64(truncatingIfNeeded: hash) << 32 | UInt64(entry + 1)
        count += 1
        // Load at most 1/2: with linear probing a miss (every new entry) probes ~2.5 slots
        // there, ~8.5 at 3/4.
        if count * 2 >= slots.count { grow() }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        for s in old where s != 0 {
            var i = firstSlot(s >> 32)
            while slots[i] != 0 { i = nextSlot(i) }
            slots[i] = s
        }
    }
}
