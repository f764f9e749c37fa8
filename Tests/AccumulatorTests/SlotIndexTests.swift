import Arena
import Testing
@testable import Accumulator

/// `SlotIndex` keeps only 32 bits of each hash: entries whose hashes agree on those bits (or
/// on every slot bit) must still be told apart by the caller's key compare, across `grow`
/// and `reset` (within a segment, and after the arena's reset: a fresh zero-filled table of
/// the same size).
@Suite struct SlotIndexTests {
    /// A column store over the index, probed the way the symbol tables probe it.
    struct Table {
        var keys: [UInt64] = []
        let arena = ColumnArena(capacityBytes: 16 << 20)
        var index: SlotIndex

        init() { index = SlotIndex(in: arena) }

        mutating func intern(_ key: UInt64, hash: UInt64) -> Int {
            var slot = index.firstSlot(hash)
            while true {
                let e = index.entry(at: slot)
                if e < 0 { break }
                if index.mayMatch(hash, at: slot), keys[e] == key { return e }
                slot = index.nextSlot(slot)
            }
            keys.append(key)
            index.insert(keys.count - 1, hash: hash, at: slot)
            return keys.count - 1
        }
    }

    /// Hashes that share their low 32 bits in groups of 16, and keys 0 ..< n.
    static func hash(_ key: UInt64) -> UInt64 { (key &* 0x9E37_79B9_7F4A_7C15) << 32 | (key / 16) &* 0x2545_F491 & 0xFFFF_FFFF }

    @Test func collidingTagsStayDistinctAcrossGrowAndReset() {
        var t = Table()
        for round in 0 ..< 3 {
            for key in UInt64(0) ..< 5000 { #expect(t.intern(key, hash: Self.hash(key)) == Int(key)) }
            var found = 0
            for key in UInt64(0) ..< 5000 where t.intern(key, hash: Self.hash(key)) == Int(key) { found += 1 }
            #expect(found == 5000 && t.keys.count == 5000 && t.index.count == 5000, "round \(round)")
            t.keys.removeAll()
            let tableBytes = t.index.byteCount
            if round == 1 { t.arena.reset() }
            t.index.reset()
            #expect(t.index.count == 0 && t.index.byteCount == tableBytes)
            if round == 1 { #expect(t.arena.usedBytes == tableBytes) }
        }
    }

    /// `preload` only reads: the entries, count and table size are unchanged, whether or not
    /// the probe count reaches an eighth of the table's lines.
    @Test func preloadLeavesTheIndexUnchanged() {
        var t = Table()
        t.index.preload(forProbes: 1_000)
        for key in UInt64(0) ..< 3000 { _ = t.intern(key, hash: Self.hash(key)) }
        let bytes = t.index.byteCount
        for probes in [0, 1, bytes / 64, 1 << 20] {
            t.index.preload(forProbes: probes)
            #expect(t.index.count == 3000 && t.index.byteCount == bytes)
            for key in UInt64(0) ..< 3000 { #expect(t.intern(key, hash: Self.hash(key)) == Int(key)) }
            #expect(t.keys.count == 3000)
        }
    }
}
