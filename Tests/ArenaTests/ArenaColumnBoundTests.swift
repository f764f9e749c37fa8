import Testing
@testable import Arena

/// `bytesToReserve(additional:)` against random append patterns.
@Suite struct ArenaColumnBoundTests {
    /// A 24-byte record, like the accumulator's locations.
    struct Record {
        var address: UInt64
        var mapping: UInt32
        var lineStart: UInt32
        var lineCount: UInt32
        var isFolded: Bool
    }

    /// The column bounds against appends of random lengths (runs) and single appends with
    /// removals (one by one, exact).
    @Test func columnGrowthBounds() {
        var rng: UInt64 = 7
        func next(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(rng >> 33) % n
        }
        let arena = ColumnArena(capacityBytes: 64 << 20)
        for trial in 0 ..< 200 {
            var bytes = ArenaColumn<UInt8>(in: arena, capacity: next(100))
            bytes.append(repeating: 1, count: next(50))
            let n = 1 + next(5000), bound = bytes.bytesToReserve(additional: n), before = arena.usedBytes
            var left = n
            while left > 0 {
                let run = min(left, 1 + next(trial % 2 == 0 ? 40 : 3000))
                bytes.append(repeating: 2, count: run)
                left -= run
            }
            #expect(arena.usedBytes - before <= bound)

            var records = ArenaColumn<Record>(in: arena, capacity: next(40))
            let m = next(3000), exact = records.bytesToReserve(additional: m), start = arena.usedBytes
            let record = Record(address: 0, mapping: 0, lineStart: 0, lineCount: 0, isFolded: false)
            var appended = 0
            while appended < m {
                records.append(record)
                appended += 1
                if next(4) == 0 && appended < m {
                    records.removeLast(1)
                    records.append(record)
                }
            }
            #expect(arena.usedBytes - start == exact)
        }
        arena.reset()
    }
}
