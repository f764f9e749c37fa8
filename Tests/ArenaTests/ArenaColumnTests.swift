import Testing
@testable import Arena

@Suite struct ArenaColumnTests {
    @Test func appendsGrowByMovingAndKeepEveryValue() {
        let arena = ColumnArena(capacityBytes: 1 << 20)
        var column = ArenaColumn<UInt32>(in: arena)
        #expect(column.capacity == 0 && arena.usedBytes == 0)
        var blocks: Set<UInt> = []
        for i in 0 ..< 1000 {
            let expected = column.bytesToReserve(additional: 1)
            let before = arena.usedBytes
            column.append(UInt32(i) &* 2_654_435_761)
            #expect(arena.usedBytes - before == expected)
            blocks.insert(UInt(bitPattern: column.base))
        }
        #expect(column.count == 1000)
        #expect((0 ..< 1000).allSatisfy { column[$0] == UInt32($0) &* 2_654_435_761 })
        // 16, 32, ..., 1024: seven blocks, each cache-line aligned.
        #expect(blocks.count == 7)
        #expect(blocks.allSatisfy { $0 % UInt(ColumnArena.alignment) == 0 })
        #expect(arena.usedBytes == (16 + 32 + 64 + 128 + 256 + 512 + 1024) * 4)
    }

    @Test func bulkAppendsMakeRoomOnce() {
        let arena = ColumnArena(capacityBytes: 1 << 20)
        var column = ArenaColumn<UInt64>(in: arena, capacity: 4)
        let values: [UInt64] = Array(1 ... 100)
        values.withUnsafeBufferPointer { column.append(contentsOf: $0) }
        column.append(repeating: 7, count: 3)
        #expect(column.count == 103 && column.capacity == 128)
        #expect(Array(column.buffer) == values + [7, 7, 7])
        column.removeLast(3)
        #expect(column.last == 100 && column.count == 100)
    }

    @Test func resetWithinASegmentKeepsTheBlock() {
        let arena = ColumnArena(capacityBytes: 1 << 20)
        var column = ArenaColumn<Int64>(in: arena)
        for i in 0 ..< 40 { column.append(Int64(i)) }
        let (base, used) = (column.base, arena.usedBytes)
        column.reset()
        #expect(column.count == 0 && column.base == base && column.capacity == 64)
        for i in 0 ..< 64 { column.append(Int64(i)) }
        #expect(arena.usedBytes == used && column.base == base)
    }

    /// After a flush the arena starts over: a column at least half full takes a block as large
    /// as before (a segment like the last grows nothing), an emptier one only its last count.
    @Test func resetAfterTheArenaResetKeepsTheRoomOfAFullEnoughColumn() {
        let arena = ColumnArena(capacityBytes: 1 << 20)
        var a = ArenaColumn<UInt32>(in: arena), b = ArenaColumn<UInt128>(in: arena)
        for i in 0 ..< 300 { a.append(UInt32(i)); if i % 3 == 0 { b.append(UInt128(i)) } }
        #expect(a.capacity == 512 && b.capacity == 128)
        let grownUsed = arena.usedBytes
        arena.reset()
        a.reset()
        b.reset()
        #expect(a.count == 0 && a.capacity == 512 && b.capacity == 128)
        #expect(arena.usedBytes == ColumnArena.blockBytes(512 * 4) + ColumnArena.blockBytes(128 * 16))
        #expect(arena.usedBytes < grownUsed && arena.highWaterBytes == grownUsed)
        for i in 0 ..< 500 { a.append(UInt32(i)) }
        #expect(a.capacity == 512 && a[499] == 499)
        // Under half full: only the last count; empty: nothing.
        for _ in 0 ..< 3 { b.append(7) }
        arena.reset()
        var empty = ArenaColumn<UInt64>(in: arena, capacity: 1000)
        b.reset()
        #expect(b.capacity == 3)
        arena.reset()
        empty.reset()
        #expect(empty.capacity == 0)
    }

    /// The bound holds for one bulk reservation (which takes only the last block) and for
    /// appends one at a time (which take every block of the doubling: the bound exactly).
    @Test func bytesToReserveBoundsAnySequenceOfAppends() {
        let arena = ColumnArena(capacityBytes: 1 << 24)
        var bulk = ArenaColumn<UInt8>(in: arena), single = ArenaColumn<UInt16>(in: arena, capacity: 5)
        for n in [0, 1, 15, 16, 17, 100, 5000, 3] {
            let bound = bulk.bytesToReserve(additional: n)
            var before = arena.usedBytes
            bulk.reserve(additional: n)
            bulk.append(repeating: 1, count: n)
            #expect(arena.usedBytes - before <= bound)
            #expect(bulk.bytesToReserve(additional: 0) == 0)

            let exact = single.bytesToReserve(additional: n)
            before = arena.usedBytes
            for _ in 0 ..< n { single.append(2) }
            #expect(arena.usedBytes - before == exact)
        }
        #expect(bulk.count == 5152 && single.count == 5152)
    }

    @Test func aFailedReservationLeavesNoRoom() {
        let arena = ColumnArena(capacityBytes: 1 << 30) { _ in nil }
        #expect(arena.capacityBytes == 0 && arena.remainingBytes == 0)
        let column = ArenaColumn<UInt32>(in: arena)
        #expect(column.bytesToReserve(additional: 1) > arena.remainingBytes)
    }

    @Test func capacityIsRoundedToWholeCacheLines() {
        let arena = ColumnArena(capacityBytes: 100)
        #expect(arena.capacityBytes == 128)
        _ = arena.allocate(bytes: 1)
        #expect(arena.usedBytes == 64 && arena.remainingBytes == 64)
    }
}
