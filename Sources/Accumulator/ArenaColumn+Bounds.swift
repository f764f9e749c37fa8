import Arena

/// Upper bounds of what appends may take from the arena, for admitting a push before it
/// touches any column (`SymbolPartitionBuilder.bytesToIngest`). Both follow
/// `ArenaColumn`'s growth: a block of `max(needed, 2 × capacity, 16)` elements.
extension ArenaColumn {
    /// Arena bytes taken while the count grows to at most `count + n` by single appends (or
    /// removals): the blocks of the doubling sequence up to that count, exactly.
    func bytesToAppend(oneByOne n: Int) -> Int {
        let target = count + n
        var held = capacity, bytes = 0
        while held < target {
            held = Swift.max(held + 1, 2 * held, 16)
            bytes += ColumnArena.blockBytes(held * MemoryLayout<Element>.stride)
        }
        return bytes
    }

    /// Arena bytes taken while the count grows to at most `count + n` by appends of any
    /// length. Each growth takes at least twice the previous block and the last one holds at
    /// most `max(2 × (target − 1), target, 16)` (it grew from fewer than `target`), so the
    /// blocks are bounded by that size, its half, its quarter… while above the capacity.
    func bytesToAppend(inRuns n: Int) -> Int {
        let target = count + n
        guard target > capacity else { return 0 }
        var block = Swift.max(2 * (target - 1), target, 16), bytes = 0
        while block > capacity && block >= 16 {
            bytes += ColumnArena.blockBytes(block * MemoryLayout<Element>.stride)
            block /= 2
        }
        return bytes
    }
}
