import Arena

/// Builds a partition's stack-trace tree the way Pyroscope's ingestion does (symdb.md §3.4):
/// each stack is walked from its root-most frame to its leaf, a missing `(parent, location)` child
/// becomes node `nodeCount`, and the stack's ID is its leaf node (0 for the empty stack).
///
/// **Memory.** Every column (the node columns, the child table, the cached path) is an
/// `ArenaColumn` of the shard's `ColumnArena` (issue #4): blocks bump-allocated from address
/// space reserved at start-up, a grown column leaving its old block to the arena, and after a
/// flush `reset()` takes fresh blocks as large as the last segment needed (the arena's pages
/// stay committed: a steady stream of segments allocates nothing from the system). The arena
/// traps when it is overrun, so before a push is admitted the accumulator asks
/// `bytesToInsert(frames:deepest:newNodes:)`, an upper bound of what inserting stacks of that
/// many frames in all may take, in one insertion or several (a push inserts one batch per
/// label group):
/// - the node columns (`parents`, `locations`, `firstChild`) and the stack-end bits get room
///   as runs of stacks need it, doubling, never past `nodeCount + frames` (a stack adds at
///   most one node per frame), the cached path (keys and nodes) for the deepest stack: so no
///   column needs more than `N` = `nodeCount + frames` (the path `2 · deepest`); capacities
///   only double, so however many steps get there, `ArenaColumn.bytesToReserve` bounds them;
/// - the child table grows only when a stack might not fit (load ≤ ½), each time at least
///   doubling, up to `P` = the table size for `slotsUsed + frames` children; the tables it
///   takes are distinct powers of two in `(S, P]` (`S` its size now), so at most
///   `(2P − 2S) · 8` bytes.
/// When that bound does not fit, the accumulator counts the nodes the stacks can really add
/// (`distinctPrefixes`: repeated stacks and shared callers add none) and asks again with it.
/// A node column's `count` is its room, not the node count: room is counted without being
/// written (`ArenaColumn.appendUnwritten`), new nodes are written through the columns' base
/// pointers within it (no per-batch padding, trimming or zero-filling), and `reset()` keeps
/// the room the last segment needed, so a steady stream of segments grows nothing.
///
/// What keeps an insertion cheap (it is the largest single cost of ingestion, and bound by
/// memory latency: each lookup's parent is the previous lookup's result):
/// - Each node's first child is kept in a column (`firstChild`, 0 for none: node 0, the root,
///   is nobody's child). Children that are not first number one less than the tree's leaves
///   (each leaf ends a stack): on the benchmark corpus under 30 % of the nodes. So most
///   lookups read `firstChild[parent]` and confirm its location, a parent without children
///   gets its child without looking anywhere else, and only the other children go to the
///   child table, a fraction of the size a table of every child had. This halved the
///   insertion's wall time there (a table of every child, even of 8-byte slots, missed the
///   cache on most probes).
/// - The child table (open addressing, linear probing, load at most 1/2): a slot is 8 bytes,
///   the child's location beside its node (`location << 32 | node`, 0 free); a location match
///   is confirmed by the node's `parents` entry, a load the CPU overlaps with the next frame.
/// - The previous stack's path is kept: the frames a stack shares with it from the root (often
///   most of them, samples of one profile share their root-most frames) reuse its nodes
///   without a lookup. Nodes are never removed, so the cached path stays valid (within one
///   batch when frames are source indices read through a map).
/// - In a batch of pprof samples, each source location remembers the last `(parent, child)`
///   it was looked up with; a frame under the same parent again takes that child without
///   reading the location map or the table.
/// - A batch with many frames for the tree's size first reads the table and the node columns
///   in order (`preload`): in-order lines stream, while the lookups' random lines missed once
///   the decoder's output had pushed them out (about 2 % of an ingest pass, paired passes).
/// Inserting takes nothing from the arena except when a column or the table has to grow.
public struct StackTreeBuilder {
    /// Distinct stacks inserted so far, the empty one included (§3.4 step 4).
    public private(set) var stacktraceCount: UInt32 = 0
    /// Nodes in the tree, the root included.
    public private(set) var nodeCount = 0

    // Node columns, `count` = their room (≥ nodeCount, the same in all three); entries past
    // `nodeCount` are unwritten.
    /// Per node, its parent (`SymbolPartition.rootParent` for the root).
    private var parentColumn: ArenaColumn<UInt32>
    /// Per node, its location index (0 for the root).
    private var locationColumn: ArenaColumn<UInt32>
    /// Per node, its first child (0 for none: the root is nobody's child).
    private var firstChild: ArenaColumn<UInt32>
    /// One bit per node: some inserted stack ended there (room: a word per 64 nodes of room,
    /// zero-filled).
    private var isStackEnd: ArenaColumn<UInt64>
    /// The children that are not their parent's first (see `child`); `count` is the table's
    /// size, a power of two.
    private var slots: ArenaColumn<UInt64>
    private var slotShift: UInt64
    /// Children in the table (its load is kept at most 1/2).
    private var slotsUsed = 0

    /// The last inserted stack, root first: per depth `d` its frame key (see `StackSource`) at
    /// `2d` and its node at `2d + 1`, side by side so that one base pointer serves both in the
    /// run's register-starved loop (`count`: room for the deepest stack so far, written before
    /// it is read).
    private var path: ArenaColumn<UInt32>
    private var pathDepth = 0
    /// Per source location of the current batch: `parent | child << 32`, `memoUnset` when unset.
    /// A heap array, not an arena column: it is sized by the batch's location map, not by its
    /// frames, so `bytesToInsert(frames:)` could not bound it, and it is scratch (nothing in it
    /// outlives the batch).
    private var memo: [UInt64] = []
    /// The arena generation the columns' blocks belong to (writes through their base pointers
    /// after the arena's reset would land in blocks handed to others).
    private var generation: Int

    /// Per node, its parent (`SymbolPartition.rootParent` for the root), as the writer takes
    /// them. A view of the arena: valid until the next insertion or `reset()`.
    public var parents: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: parentColumn.base, count: nodeCount) }
    /// Per node, its location index (0 for the root). Valid until the next insertion or `reset()`.
    public var locations: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: locationColumn.base, count: nodeCount) }

    /// Bytes of data the tree holds (what the memory accounting charges): parent, location
    /// and first child per node, the stack-end bits, and 16 bytes per child in the table (its
    /// 8-byte slot and the free one a load ≤ ½ implies). Room and the blocks left behind by
    /// growth are `reservedBytes`' business.
    public var byteCount: Int { nodeCount * 12 + (nodeCount + 63) / 64 * 8 + slotsUsed * 16 }

    /// Bytes of the arena blocks the tree's columns hold now (not the blocks growth left
    /// behind, which the arena's `usedBytes` counts until its reset; the memo, a heap array,
    /// aside).
    public var reservedBytes: Int {
        Self.block(parentColumn) + Self.block(locationColumn) + Self.block(firstChild)
            + Self.block(isStackEnd) + Self.block(slots) + Self.block(path)
    }

    private static func block<E>(_ column: ArenaColumn<E>) -> Int { ColumnArena.blockBytes(column.reservedBytes) }

    /// A tree of the root alone whose columns come from `arena`; `expectedNodes` sizes the
    /// node columns and the child table up front.
    public init(in arena: ColumnArena, expectedNodes: Int = 1024) {
        let capacity = max(16, expectedNodes)
        generation = arena.generation
        parentColumn = ArenaColumn(in: arena, capacity: capacity)
        locationColumn = ArenaColumn(in: arena, capacity: capacity)
        firstChild = ArenaColumn(in: arena, capacity: capacity)
        isStackEnd = ArenaColumn(in: arena, capacity: capacity / 64 + 1)
        path = ArenaColumn(in: arena)
        let slotCount = Self.slotCount(for: capacity)
        slots = ArenaColumn(in: arena, capacity: slotCount)
        slots.append(repeating: 0, count: slotCount)
        slotShift = Self.shift(slotCount)
        makeRoot()
    }

    /// Empties the tree. Call it after the arena's `reset()` (each column then takes a fresh
    /// block as large as its last room; the table is zero-filled at its previous size), or
    /// within a segment (the blocks are kept).
    public mutating func reset() {
        parentColumn.reset()
        locationColumn.reset()
        firstChild.reset()
        isStackEnd.reset()
        path.reset()
        let slotCount = slots.count
        slots.reset()
        slots.append(repeating: 0, count: slotCount)
        slotsUsed = 0
        stacktraceCount = 0
        pathDepth = 0
        generation = parentColumn.arena.generation
        makeRoot()
    }

    /// Node 0, the root: `(rootParent, location 0)`, no child, ending no stack yet.
    private mutating func makeRoot() {
        parentColumn.append(SymbolPartition.rootParent)
        locationColumn.append(0)
        firstChild.append(0)
        isStackEnd.append(0)
        nodeCount = 1
    }

    /// An upper bound of the bytes inserting stacks of `frames` frames in all, the deepest of
    /// `deepest`, in one insertion or several, may take from the arena: the node columns', the
    /// path's and the child table's growth (see the type's comment). Never exceeded.
    ///
    /// `newNodes`, when given, is at most the nodes the stacks can add (`distinctPrefixes`); by
    /// default every frame may add one. Room is still made for a stack's whole depth before it
    /// is walked, so the node columns may reach `2 · (nodeCount + newNodes + deepest)` (room
    /// doubles when a stack might not fit in it) and the child table's growth may count a
    /// stack's frames on top of the children there are (see `insertAll`).
    public func bytesToInsert(frames: Int, deepest: Int, newNodes: Int? = nil) -> Int {
        precondition(frames >= 0 && deepest >= 0 && deepest <= frames, "frame counts out of order")
        let added = min(frames, newNodes ?? frames)
        let nodes = min(nodeCount + frames, 2 * (nodeCount + added + deepest))
        var bytes = Self.bytesToGrow(parentColumn, to: nodes) + Self.bytesToGrow(locationColumn, to: nodes)
            + Self.bytesToGrow(firstChild, to: nodes) + Self.bytesToGrow(isStackEnd, to: (nodes + 63) / 64)
            + Self.bytesToGrow(path, to: 2 * deepest)
        let largestTable = Self.slotCount(for: slotsUsed + min(frames, added + deepest))
        if largestTable > slots.count { bytes += (2 * largestTable - 2 * slots.count) * MemoryLayout<UInt64>.stride }
        return bytes
    }

    /// The most `column` may take while its count grows, in any number of steps, to at most
    /// `count` (see the type's comment).
    private static func bytesToGrow<E>(_ column: ArenaColumn<E>, to count: Int) -> Int {
        column.bytesToReserve(additional: max(0, count - column.count))
    }

    /// Makes the node columns' room at least `nodes` (the stack-end bits zero-filled).
    private mutating func makeRoom(nodes: Int) {
        let room = parentColumn.count
        if nodes > room {
            parentColumn.appendUnwritten(nodes - room)
            locationColumn.appendUnwritten(nodes - room)
            firstChild.appendUnwritten(nodes - room)
        }
        let words = (nodes + 63) / 64
        if words > isStackEnd.count { isStackEnd.append(repeating: 0, count: words - isStackEnd.count) }
    }

    /// Inserts one stack given leaf first (pprof order) and returns its stack-trace ID.
    public mutating func insert(leafFirst stack: UnsafeBufferPointer<UInt32>) -> UInt32 {
        var id: UInt32 = 0
        withUnsafeMutablePointer(to: &id) { id in
            insertAll(PlainStack(frames: stack), ids: UnsafeMutableBufferPointer(start: id, count: 1))
        }
        return id
    }

    /// Inserts one stack per entry of `samples` and writes its stack-trace ID to the same
    /// position of `ids`. Stack `s` is `map[frames[j]]` for `j` in `starts[s] ..< starts[s + 1]`,
    /// leaf first: pprof's sample layout read through a location map, so the caller copies
    /// nothing. Every index must be in bounds and `starts` ascending (the caller's decoder
    /// checked the indices and built the starts).
    public mutating func insert(samples: UnsafeBufferPointer<Int32>, starts: UnsafeBufferPointer<UInt32>,
                                frames: UnsafeBufferPointer<UInt32>, map: UnsafeBufferPointer<UInt32>,
                                ids: UnsafeMutableBufferPointer<UInt32>) {
        precondition(ids.count == samples.count, "one stack id per sample")
        insertAll(MappedStacks(samples: samples, starts: starts, frames: frames, map: map), ids: ids)
    }

    /// The batch insertion. Room for the deepest stack is made in the path first; then runs of
    /// stacks write through the columns' base pointers, and the node room and the child table
    /// grow between runs, never inside one.
    private mutating func insertAll<S: StackSource>(_ source: S, ids: UnsafeMutableBufferPointer<UInt32>) {
        precondition(generation == parentColumn.arena.generation, "StackTreeBuilder used after its arena was reset, before its own reset()")
        // A path of source keys means nothing to another batch; a memo sized for this one.
        if !S.keysAreLocations { pathDepth = 0 }
        var memo: [UInt64] = []
        if S.hasMemo {
            swap(&memo, &self.memo)
            memo.removeAll(keepingCapacity: true)
            memo.append(contentsOf: repeatElement(Self.memoUnset, count: source.memoCount))
        }
        var deepest = 0, frames = 0
        for k in 0 ..< source.count {
            let n = source.frameRange(k).count
            deepest = max(deepest, n)
            frames += n
        }
        precondition(nodeCount + frames < Int(UInt32.max), "stack tree node index overflows u32")
        preload(forFrames: frames)
        // Node room grows as runs need it, doubling, never past what every frame could add
        // (room for all of them up front held several times the nodes of a warm tree).
        let nodesMax = nodeCount + frames
        makeRoom(nodes: min(nodesMax, max(parentColumn.count, nodeCount + deepest)))
        if path.count < 2 * deepest { path.appendUnwritten(2 * deepest - path.count) }
        var cursor = Cursor(used: nodeCount, slotsUsed: slotsUsed, pathDepth: pathDepth, stacktraceCount: stacktraceCount)
        memo.withUnsafeMutableBufferPointer { memo in
            var k = 0
            while true {
                let columns = Columns(
                    parents: parentColumn.base, locations: locationColumn.base, firstChild: firstChild.base,
                    isStackEnd: isStackEnd.base, slots: slots.base, slotMask: slots.count - 1, slotShift: slotShift,
                    path: path.base, memo: memo.baseAddress ?? Self.noMemo)
                k = Self.run(source, from: k, ids: ids, columns, nodeLimit: parentColumn.count, slotsLimit: slots.count / 2,
                             &cursor)
                if k == source.count { break }
                let n = source.frameRange(k).count
                if cursor.used + n > parentColumn.count {
                    makeRoom(nodes: min(nodesMax, max(2 * parentColumn.count, cursor.used + n)))
                }
                if cursor.slotsUsed + n > slots.count / 2 { growTable(toHold: cursor.slotsUsed + n) }
            }
        }
        if S.hasMemo { swap(&memo, &self.memo) }
        nodeCount = cursor.used
        slotsUsed = cursor.slotsUsed
        pathDepth = S.keysAreLocations ? cursor.pathDepth : 0
        stacktraceCount = cursor.stacktraceCount
    }

    /// Reads the child table and the node columns once, in order, when the batch has at least
    /// a frame per four of their cache lines: after the decoder streamed a profile through the
    /// caches, their lines are gone, and a lookup's miss on a random line costs more than a
    /// line of a sequential sweep the prefetcher runs ahead of.
    private func preload(forFrames frames: Int) {
        let lines = slots.count / 8 + 3 * (nodeCount / 16)
        guard frames &* 4 >= lines, nodeCount > 1 else { return }
        if slotsUsed > 0 { slots.readEveryCacheLine() }
        parentColumn.readEveryCacheLine(elements: nodeCount)
        locationColumn.readEveryCacheLine(elements: nodeCount)
        firstChild.readEveryCacheLine(elements: nodeCount)
    }

    /// What a run updates: nodes in use, table slots in use, the cached path's depth, distinct
    /// stacks.
    private struct Cursor {
        var used: Int
        var slotsUsed: Int
        var pathDepth: Int
        var stacktraceCount: UInt32
    }

    /// The columns of one run, as pointers.
    private struct Columns {
        let parents: UnsafeMutablePointer<UInt32>
        let locations: UnsafeMutablePointer<UInt32>
        let firstChild: UnsafeMutablePointer<UInt32>
        let isStackEnd: UnsafeMutablePointer<UInt64>
        let slots: UnsafeMutablePointer<UInt64>
        let slotMask: Int
        let slotShift: UInt64
        let path: UnsafeMutablePointer<UInt32>
        /// `noMemo` when the source has none.
        let memo: UnsafeMutablePointer<UInt64>
    }

    /// Inserts stacks from `first` on while the next one's frames fit in the node columns'
    /// room (`nodeLimit` nodes) and in the child table with at most `slotsLimit` children;
    /// returns the first stack not inserted.
    @inline(__always)
    private static func run<S: StackSource>(_ source: S, from first: Int, ids: UnsafeMutableBufferPointer<UInt32>,
                                            _ c: Columns, nodeLimit: Int, slotsLimit: Int, _ cursor: inout Cursor) -> Int {
        var used = cursor.used, slotsUsed = cursor.slotsUsed, pathDepth = cursor.pathDepth
        var distinct = cursor.stacktraceCount
        defer {
            cursor.used = used
            cursor.slotsUsed = slotsUsed
            cursor.pathDepth = pathDepth
            cursor.stacktraceCount = distinct
        }
        var k = first
        while k < source.count {
            let range = source.frameRange(k)
            let n = range.count
            // No overflow: counts and frames are far below `Int.max` (checked per batch).
            if slotsUsed &+ n > slotsLimit || used &+ n > nodeLimit { break }
            var node: UInt32 = 0
            var depth = 0
            var j = range.upperBound - 1
            // Root-most frames shared with the previous stack reuse its nodes.
            let shared = min(n, pathDepth)
            while depth < shared {
                let key = source.key(j)
                if c.path[2 &* depth] != key { break }
                node = c.path[2 &* depth &+ 1]
                depth += 1
                j &-= 1
            }
            while depth < n {
                let key = source.key(j)
                node = child(of: node, key: key, source, c, &used, &slotsUsed)
                c.path[2 &* depth] = key
                c.path[2 &* depth &+ 1] = node
                depth += 1
                j &-= 1
            }
            pathDepth = n
            let word = Int(node &>> 6), bit = UInt64(1) &<< UInt64(node & 63)
            if c.isStackEnd[word] & bit == 0 {
                c.isStackEnd[word] |= bit
                distinct += 1
            }
            ids[k] = node
            k += 1
        }
        return k
    }

    /// The child of `parent` for the frame `key`, created if missing: from the memo when the
    /// key was last seen under the same parent, else the parent's first child if its location
    /// matches, else from the child table. A new child is the parent's first when it has none,
    /// else it goes to the table.
    @inline(__always)
    private static func child<S: StackSource>(of parent: UInt32, key frameKey: UInt32, _ source: S,
                                              _ c: Columns, _ used: inout Int, _ slotsUsed: inout Int) -> UInt32 {
        if S.hasMemo {
            let m = c.memo[Int(frameKey)]
            if UInt32(truncatingIfNeeded: m) == parent { return UInt32(truncatingIfNeeded: m &>> 32) }
        }
        let location = source.location(ofKey: frameKey)
        let first = c.firstChild[Int(parent)]
        var node: UInt32
        if first == 0 {
            // No child yet: the new node is the first, kept in the column, not the table.
            node = UInt32(truncatingIfNeeded: used)
            c.firstChild[Int(parent)] = node
        } else if c.locations[Int(first)] == location {
            node = first
            if S.hasMemo { c.memo[Int(frameKey)] = UInt64(node) << 32 | UInt64(parent) }
            return node
        } else {
            var slot = homeSlot(parent: parent, location: location, c.slotShift)
            while true {
                let s = c.slots[slot]
                if s == 0 { break }
                node = UInt32(truncatingIfNeeded: s)
                if UInt32(truncatingIfNeeded: s &>> 32) == location, c.parents[Int(node)] == parent {
                    if S.hasMemo { c.memo[Int(frameKey)] = UInt64(node) << 32 | UInt64(parent) }
                    return node
                }
                slot = (slot + 1) & c.slotMask
            }
            node = UInt32(truncatingIfNeeded: used)
            c.slots[slot] = UInt64(location) << 32 | UInt64(node)
            slotsUsed += 1
        }
        // The stack-end bits past `used` are zero-filled: the new node ends no stack yet.
        c.parents[used] = parent
        c.locations[used] = location
        c.firstChild[used] = 0
        used += 1
        if S.hasMemo { c.memo[Int(frameKey)] = UInt64(node) << 32 | UInt64(parent) }
        return node
    }

    /// Moves the child table to a new block of at least twice its size, large enough for
    /// `children` at load ≤ ½, and re-inserts every slot (a slot's parent is its node's). The
    /// old block is left to the arena.
    private mutating func growTable(toHold children: Int) {
        let slotCount = max(slots.count * 2, Self.slotCount(for: children))
        var grown = ArenaColumn<UInt64>(in: slots.arena, capacity: slotCount)
        grown.append(repeating: 0, count: slotCount)
        let shift = Self.shift(slotCount), mask = slotCount - 1
        let table = grown.base, parents = parentColumn.base
        for s in slots.buffer where s != 0 {
            let parent = parents[Int(UInt32(truncatingIfNeeded: s))]
            var slot = Self.homeSlot(parent: parent, location: UInt32(truncatingIfNeeded: s &>> 32), shift)
            while table[slot] != 0 { slot = (slot + 1) & mask }
            table[slot] = s
        }
        slots = grown
        slotShift = shift
    }

    /// A memo entry of no parent (no node is `UInt32.max`: see the node count's precondition),
    /// so that a lookup compares the entry's low half with the parent as it is.
    private static let memoUnset = UInt64.max

    /// Never dereferenced: the memo of a source without one (a non-optional pointer spares the
    /// run a nil check per frame).
    private static var noMemo: UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer(bitPattern: MemoryLayout<UInt64>.alignment)!
    }

    private static func shift(_ slotCount: Int) -> UInt64 { UInt64(64 - slotCount.trailingZeroBitCount) }

    /// Where the probe for `(parent, location)` starts.
    @inline(__always)
    private static func homeSlot(parent: UInt32, location: UInt32, _ shift: UInt64) -> Int {
        let key = (UInt64(parent) &+ 1) << 32 | UInt64(location)
        return Int(truncatingIfNeeded: (key &* slotMultiplier) &>> shift)
    }

    private static let slotMultiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    private static func slotCount(for nodes: Int) -> Int {
        var n = 16
        while n < 2 * nodes { n <<= 1 }
        return n
    }
}

/// Where a batch's stacks come from: frame positions per stack, a key per frame position and
/// the location of a key. Keys are locations, or source indices read through a map (then a
/// key-to-child memo sized `memoCount` pays, and a path of keys means nothing to another batch).
private protocol StackSource {
    static var keysAreLocations: Bool { get }
    static var hasMemo: Bool { get }
    var count: Int { get }
    var memoCount: Int { get }
    func frameRange(_ k: Int) -> Range<Int>
    func key(_ j: Int) -> UInt32
    func location(ofKey key: UInt32) -> UInt32
}

/// One stack of partition location ids.
private struct PlainStack: StackSource {
    static var keysAreLocations: Bool { true }
    static var hasMemo: Bool { false }
    let frames: UnsafeBufferPointer<UInt32>
    var count: Int { 1 }
    var memoCount: Int { 0 }
    @inline(__always) func frameRange(_ k: Int) -> Range<Int> { 0 ..< frames.count }
    @inline(__always) func key(_ j: Int) -> UInt32 { frames[j] }
    @inline(__always) func location(ofKey key: UInt32) -> UInt32 { key }
}

/// pprof samples whose frames are source location indices, read through a location map.
private struct MappedStacks: StackSource {
    static var keysAreLocations: Bool { false }
    static var hasMemo: Bool { true }
    let samples: UnsafeBufferPointer<Int32>
    let starts: UnsafeBufferPointer<UInt32>
    let frames: UnsafeBufferPointer<UInt32>
    let map: UnsafeBufferPointer<UInt32>
    var count: Int { samples.count }
    var memoCount: Int { map.count }
    @inline(__always) func frameRange(_ k: Int) -> Range<Int> {
        // The caller's decoder checked `starts` (ascending).
        let s = Int(samples[k])
        return Range(uncheckedBounds: (Int(starts[s]), Int(starts[s &+ 1])))
    }
    @inline(__always) func key(_ j: Int) -> UInt32 { frames[j] }
    @inline(__always) func location(ofKey key: UInt32) -> UInt32 { map[Int(key)] }
}
