/// A growable column of plain values whose storage is a block of a `ColumnArena`: what the
/// accumulator's rows, series, symbols and stack tree are made of.
///
/// - Growth takes a block 2, 4, 8, … times as large (the first of these that holds what is
///   needed) and copies; the old block is left to the arena until its `reset()`. Only the
///   growth path costs more than a store.
/// - `reset()` after the arena's reset takes a fresh block as large as the old one when the
///   column was at least half full, else as large as its last count: a steady stream of
///   segments grows nothing (and leaves no grown-out blocks behind), and a dataset that
///   shrinks by half or more gives the room back.
/// - `bytesToReserve(additional:)` tells beforehand the most that making room would take from
///   the arena, so a push is admitted only when all of its allocations fit. Because capacities
///   only ever double from where the column stands, any sequence of appends takes a subset of
///   the same blocks, and their sum bounds it whatever the appends' sizes.
///
/// A value type holding a pointer: copies share the storage (like a view), and only the copy
/// that grows moves. Elements are trivially copyable (no reference counting in the arena).
public struct ArenaColumn<Element: BitwiseCopyable> {
    public let arena: ColumnArena
    public private(set) var base: UnsafeMutablePointer<Element>
    /// Elements held (`count`; settable by the inlinable appends, hence not `private(set)`).
    @usableFromInline var storedCount = 0
    public var count: Int { @inlinable get { storedCount } }
    public private(set) var capacity = 0
    /// The arena generation the block belongs to.
    private var generation: Int

    /// An empty column; `capacity` elements are taken from the arena now (0: at the first append).
    public init(in arena: ColumnArena, capacity: Int = 0) {
        self.arena = arena
        generation = arena.generation
        base = Self.emptyBase
        if capacity > 0 { moveToBlock(capacity: capacity) }
    }

    /// Never dereferenced (capacity 0); aligned so that buffer views over it are valid.
    private static var emptyBase: UnsafeMutablePointer<Element> {
        UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }

    @inlinable public var isEmpty: Bool { count == 0 }
    /// Bytes of the elements held.
    @inlinable public var byteCount: Int { count * MemoryLayout<Element>.stride }
    /// Bytes of the column's block.
    public var reservedBytes: Int { capacity * MemoryLayout<Element>.stride }

    @inlinable public var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
    @inlinable public var mutableBuffer: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: base, count: count) }

    @inlinable @inline(__always)
    public subscript(i: Int) -> Element {
        get {
            precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "ArenaColumn index out of range")
            return base[i]
        }
        nonmutating set {
            precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "ArenaColumn index out of range")
            (base + i).pointee = newValue
        }
    }

    @inlinable public var last: Element? { count == 0 ? nil : base[count - 1] }

    // The appends, `reserve` and `removeLast` are inlinable: called from other modules they
    // were unspecialized generic calls, a large share of a symbol table's interning.
    @inlinable @inline(__always)
    public mutating func append(_ e: Element) {
        if storedCount == capacity { grow(toHold: storedCount + 1) }
        (base + storedCount).pointee = e
        storedCount += 1
    }

    @inlinable
    public mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let from = elements.baseAddress, elements.count > 0 else { return }
        reserve(additional: elements.count)
        (base + storedCount).update(from: from, count: elements.count)
        storedCount += elements.count
    }

    @inlinable
    public mutating func append(repeating e: Element, count n: Int) {
        precondition(n >= 0, "ArenaColumn.append(repeating:) of a negative count")
        reserve(additional: n)
        (base + storedCount).initialize(repeating: e, count: n)
        storedCount += n
    }

    /// Counts `n` more elements without writing them: room its owner fills before reading it
    /// (the elements are plain values, so unwritten memory is not undefined state).
    public mutating func appendUnwritten(_ n: Int) {
        precondition(n >= 0, "ArenaColumn.appendUnwritten of a negative count")
        reserve(additional: n)
        storedCount += n
    }

    /// Makes room for `n` more elements (growth, if any, happens here, not in the appends).
    @inlinable
    public mutating func reserve(additional n: Int) {
        if count + n > capacity { grow(toHold: count + n) }
    }

    /// The most that appending `n` more elements, in any number of appends, can take from the
    /// arena (0 when there is room): the blocks of every doubling up to the first capacity that
    /// holds them.
    public func bytesToReserve(additional n: Int) -> Int {
        let needed = count + n
        var bytes = 0, c = capacity
        while c < needed {
            c = Self.grownCapacity(c, toHold: c + 1)
            bytes += ColumnArena.blockBytes(c * MemoryLayout<Element>.stride)
        }
        return bytes
    }

    @inlinable
    public mutating func removeLast(_ n: Int) {
        precondition(n >= 0 && n <= count, "ArenaColumn.removeLast beyond the count")
        storedCount -= n
    }

    /// Empties the column. Within a segment it keeps its block; after the arena's reset it
    /// takes a new block, as large as the old one when the column was at least half full, else
    /// as large as its last count (its old block now belongs to nobody).
    public mutating func reset() {
        if generation == arena.generation {
            storedCount = 0
            return
        }
        // At least half full: the same room again (a segment like the last grows nothing and
        // leaves no block behind); emptier: only what the last segment held.
        let size = count * 2 >= capacity ? capacity : count
        generation = arena.generation
        storedCount = 0
        capacity = 0
        base = Self.emptyBase
        if size > 0 { moveToBlock(capacity: size) }
    }

    /// The capacity doubled as many times as it takes to hold `needed` (16 at least).
    /// Reads one byte of every cache line of the first `elements` elements (all of them by
    /// default), in order. Before a loop of random probes into the column: once it has left the
    /// cache (a flush, other datasets' pushes, the decoder's output streaming through) nearly
    /// every probe waits on a miss, while an in-order sweep is streamed by the prefetcher.
    public func readEveryCacheLine(elements: Int? = nil) {
        let bytes = min(elements ?? count, count) * MemoryLayout<Element>.stride
        let raw = UnsafeRawPointer(base)
        var acc: UInt8 = 0, i = 0
        while i < bytes {
            acc |= raw.load(fromByteOffset: i, as: UInt8.self)
            i &+= 64
        }
        // Stored so the loads are kept.
        cacheLineSink = acc
    }

    static func grownCapacity(_ capacity: Int, toHold needed: Int) -> Int {
        var c = max(capacity, 8) * 2
        while c < needed { c *= 2 }
        return c
    }

    @usableFromInline
    mutating func grow(toHold needed: Int) {
        moveToBlock(capacity: Self.grownCapacity(capacity, toHold: needed))
    }

    private mutating func moveToBlock(capacity newCapacity: Int) {
        precondition(generation == arena.generation, "ArenaColumn used after its arena was reset, before its own reset()")
        let block = arena.allocate(bytes: newCapacity * MemoryLayout<Element>.stride)
        let moved = block.bindMemory(to: Element.self, capacity: newCapacity)
        if count > 0 { moved.update(from: base, count: count) }
        base = moved
        capacity = newCapacity
    }
}

/// Where `readEveryCacheLine` leaves what it read, so the reads are kept. Cores' writes race
/// harmlessly: nothing ever reads it.
nonisolated(unsafe) private var cacheLineSink: UInt8 = 0
