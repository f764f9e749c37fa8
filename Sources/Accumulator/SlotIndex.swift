/// Open-addressing index (linear probing, power-of-two slots) from a 64-bit hash to an
/// entry number of some column store. The caller probes and compares keys itself so the
/// inner loop stays free of closures; `insert` grows by rehashing the stored hashes.
struct SlotIndex {
    /// `slots[i]` holds entry + 1, or 0 when free.
    private var slots: [UInt32] = Array(repeating: 0, count: 64)
    private var slotHashes: [UInt64] = Array(repeating: 0, count: 64)
    private(set) var count = 0

    private var mask: Int { slots.count - 1 }

    mutating func reset() {
        if count > 0 {
            for i in slots.indices { slots[i] = 0 }
        }
        count = 0
    }

    @inline(__always) func firstSlot(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }
    @inline(__always) func nextSlot(_ slot: Int) -> Int { (slot + 1) & mask }

    /// The entry at `slot`, or -1 when the slot is free (the probe ends there).
    @inline(__always) func entry(at slot: Int) -> Int { Int(slots[slot]) - 1 }

    /// Stores `entry` at the free `slot` found by the caller's probe.
    @inline(__always)
    mutating func insert(_ entry: Int, hash: UInt64, at slot: Int) {
        precondition(slots[slot] == 0, "SlotIndex.insert into an occupied slot")
        slots[slot] = UInt32(entry + 1)
        slotHashes[slot] = hash
        count += 1
        if count * 4 >= slots.count * 3 { grow() }
    }

    private mutating func grow() {
        let oldSlots = slots
        let oldHashes = slotHashes
        slots = Array(repeating: 0, count: oldSlots.count * 2)
        slotHashes = Array(repeating: 0, count: oldSlots.count * 2)
        for (i, e) in oldSlots.enumerated() where e != 0 {
            var s = firstSlot(oldHashes[i])
            while slots[s] != 0 { s = nextSlot(s) }
            slots[s] = e
            slotHashes[s] = oldHashes[i]
        }
    }
}
