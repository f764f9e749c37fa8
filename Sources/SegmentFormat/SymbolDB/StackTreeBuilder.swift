/// Builds a partition's stack-trace tree the way Pyroscope's ingestion does (symdb.md §3.4):
/// each stack is walked from its root-most frame to its leaf, a missing `(parent, location)` child
/// becomes node `nodeCount`, and the stack's ID is its leaf node (0 for the empty stack).
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
/// Inserting allocates nothing except when a column or the table has to grow (amortized).
public struct StackTreeBuilder: Sendable {
    /// Per node, its parent (`SymbolPartition.rootParent` for the root), as the writer takes them.
    public private(set) var parents: [UInt32]
    /// Per node, its location index (0 for the root).
    public private(set) var locations: [UInt32]
    /// Distinct stacks inserted so far, the empty one included (§3.4 step 4).
    public private(set) var stacktraceCount: UInt32 = 0

    /// One bit per node: some inserted stack ended there.
    private var isStackEnd: [UInt64]
    /// Per node, its first child (0 for none: the root is nobody's child).
    private var firstChild: [UInt32]
    /// The children that are not their parent's first (see `child`).
    private var slots: [UInt64]
    private var slotShift: UInt64
    /// Children in the table (its load is kept at most 1/2).
    private var slotsUsed = 0

    /// The last inserted stack, root first: its frame keys (see `StackSource`) and the node of
    /// each depth.
    private var pathKeys: [UInt32] = []
    private var pathNodes: [UInt32] = []
    private var pathDepth = 0
    /// Per source location of the current batch: `(parent + 1) | child << 32`, 0 when unset.
    private var memo: [UInt64] = []

    public var nodeCount: Int { parents.count }

    /// Bytes the tree holds for its nodes: parent, location and first child per node, the
    /// stack-end bit, and two 8-byte slots (load ≤ 1/2) per child in the table.
    public var byteCount: Int { nodeCount * 12 + nodeCount / 8 + slotsUsed * 16 }

    /// `expectedNodes` sizes the columns and the child table up front.
    public init(expectedNodes: Int = 1024) {
        let capacity = max(16, expectedNodes)
        parents = [SymbolPartition.rootParent]
        locations = [0]
        parents.reserveCapacity(capacity)
        locations.reserveCapacity(capacity)
        isStackEnd = [0]
        isStackEnd.reserveCapacity(capacity / 64 + 1)
        firstChild = [0]
        firstChild.reserveCapacity(capacity)
        let slotCount = Self.slotCount(for: capacity)
        slots = Array(repeating: 0, count: slotCount)
        slotShift = UInt64(64 - slotCount.trailingZeroBitCount)
    }

    /// Empties the tree but keeps every buffer's capacity (for reuse after a flush).
    public mutating func removeAll() {
        parents.removeAll(keepingCapacity: true)
        locations.removeAll(keepingCapacity: true)
        parents.append(SymbolPartition.rootParent)
        locations.append(0)
        isStackEnd.removeAll(keepingCapacity: true)
        isStackEnd.append(0)
        firstChild.removeAll(keepingCapacity: true)
        firstChild.append(0)
        slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        slotsUsed = 0
        stacktraceCount = 0
        pathDepth = 0
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
    /// nothing. Every index must be in bounds (the caller's decoder checked them).
    public mutating func insert(samples: UnsafeBufferPointer<Int32>, starts: UnsafeBufferPointer<UInt32>,
                                frames: UnsafeBufferPointer<UInt32>, map: UnsafeBufferPointer<UInt32>,
                                ids: UnsafeMutableBufferPointer<UInt32>) {
        precondition(ids.count == samples.count, "one stack id per sample")
        insertAll(MappedStacks(samples: samples, starts: starts, frames: frames, map: map), ids: ids)
    }

    /// The batch insertion. The columns are moved out of `self`, padded with room for the
    /// deepest stack and written through pointers (a store or an `append` on a stored array
    /// checks uniqueness and capacity each); the child table is grown before a run, never
    /// inside one. The padding is cut off at the end, so `parents`/`locations` hold exactly
    /// the nodes.
    private mutating func insertAll<S: StackSource>(_ source: S, ids: UnsafeMutableBufferPointer<UInt32>) {
        // A path of source keys means nothing to another batch; a memo sized for this one.
        if !S.keysAreLocations { pathDepth = 0 }
        if S.hasMemo {
            memo.removeAll(keepingCapacity: true)
            memo.append(contentsOf: repeatElement(0, count: source.memoCount))
        }
        var deepest = 0, frames = 0
        for k in 0 ..< source.count {
            let n = source.frameRange(k).count
            deepest = max(deepest, n)
            frames += n
        }
        if pathNodes.count < deepest {
            pathNodes.append(contentsOf: repeatElement(0, count: deepest - pathNodes.count))
            pathKeys.append(contentsOf: repeatElement(0, count: deepest - pathKeys.count))
        }
        var cursor = Cursor(used: parents.count, slotsUsed: slotsUsed, pathDepth: pathDepth,
                            stacktraceCount: stacktraceCount)
        var parents = self.parents, locations = self.locations, isStackEnd = self.isStackEnd
        var firstChild = self.firstChild
        var slots = self.slots, pathNodes = self.pathNodes, pathKeys = self.pathKeys, memo = self.memo
        self.parents = []
        self.locations = []
        self.isStackEnd = []
        self.firstChild = []
        self.slots = []
        self.pathNodes = []
        self.pathKeys = []
        self.memo = []
        var k = 0
        while k < source.count {
            precondition(cursor.used + deepest < Int(UInt32.max), "stack tree node index overflows u32")
            if parents.count - cursor.used < deepest {
                // At most `frames` nodes are new; doubling keeps padding amortized.
                let pad = max(deepest, min(frames, parents.count))
                parents.append(contentsOf: repeatElement(0, count: pad))
                locations.append(contentsOf: repeatElement(0, count: pad))
                firstChild.append(contentsOf: repeatElement(0, count: pad))
                let words = (parents.count + 63) / 64
                isStackEnd.append(contentsOf: repeatElement(0, count: words - isStackEnd.count))
            }
            while (cursor.slotsUsed + deepest) * 2 > slots.count { Self.grow(&slots, &slotShift, parents: parents) }
            // A run stops before a stack that might not fit in the columns or the table.
            let usedLimit = parents.count - deepest, slotsLimit = slots.count / 2 - deepest
            let shift = slotShift
            parents.withUnsafeMutableBufferPointer { parents in
              firstChild.withUnsafeMutableBufferPointer { firstChild in
                locations.withUnsafeMutableBufferPointer { locations in
                    isStackEnd.withUnsafeMutableBufferPointer { isStackEnd in
                        slots.withUnsafeMutableBufferPointer { slots in
                            pathNodes.withUnsafeMutableBufferPointer { pathNodes in
                                pathKeys.withUnsafeMutableBufferPointer { pathKeys in
                                    memo.withUnsafeMutableBufferPointer { memo in
                                        let columns = Columns(
                                            parents: parents.baseAddress!, locations: locations.baseAddress!,
                                            firstChild: firstChild.baseAddress!,
                                            isStackEnd: isStackEnd.baseAddress!, slots: slots.baseAddress!,
                                            slotMask: slots.count - 1, slotShift: shift,
                                            pathNodes: pathNodes.baseAddress, pathKeys: pathKeys.baseAddress,
                                            memo: memo.baseAddress)
                                        k = Self.run(source, from: k, ids: ids, columns, usedLimit: usedLimit,
                                                     slotsLimit: slotsLimit, &cursor)
                                    }
                                }
                            }
                        }
                    }
                }
              }
            }
        }
        parents.removeLast(parents.count - cursor.used)
        locations.removeLast(locations.count - cursor.used)
        firstChild.removeLast(firstChild.count - cursor.used)
        isStackEnd.removeLast(isStackEnd.count - (cursor.used + 63) / 64)
        self.parents = parents
        self.locations = locations
        self.isStackEnd = isStackEnd
        self.firstChild = firstChild
        self.slots = slots
        slotsUsed = cursor.slotsUsed
        self.pathNodes = pathNodes
        self.pathKeys = pathKeys
        self.memo = memo
        pathDepth = S.keysAreLocations ? cursor.pathDepth : 0
        stacktraceCount = cursor.stacktraceCount
    }

    /// What a run updates: nodes in use, table slots in use, the cached path's depth, distinct
    /// stacks.
    private struct Cursor {
        var used: Int
        var slotsUsed: Int
        var pathDepth: Int
        var stacktraceCount: UInt32
    }

    /// The columns of one run, as pointers (the path and the memo may be empty, hence optional).
    private struct Columns {
        let parents: UnsafeMutablePointer<UInt32>
        let locations: UnsafeMutablePointer<UInt32>
        let firstChild: UnsafeMutablePointer<UInt32>
        let isStackEnd: UnsafeMutablePointer<UInt64>
        let slots: UnsafeMutablePointer<UInt64>
        let slotMask: Int
        let slotShift: UInt64
        let pathNodes: UnsafeMutablePointer<UInt32>?
        let pathKeys: UnsafeMutablePointer<UInt32>?
        let memo: UnsafeMutablePointer<UInt64>?
    }

    /// Inserts stacks from `first` on while at most `usedLimit` nodes and `slotsLimit` table
    /// slots are in use (so the deepest stack fits in the columns and the table); returns the
    /// first stack not inserted.
    @inline(__always)
    private static func run<S: StackSource>(_ source: S, from first: Int, ids: UnsafeMutableBufferPointer<UInt32>,
                                            _ c: Columns, usedLimit: Int, slotsLimit: Int, _ cursor: inout Cursor) -> Int {
        var used = cursor.used, slotsUsed = cursor.slotsUsed, pathDepth = cursor.pathDepth
        var distinct = cursor.stacktraceCount
        defer {
            cursor.used = used
            cursor.slotsUsed = slotsUsed
            cursor.pathDepth = pathDepth
            cursor.stacktraceCount = distinct
        }
        var k = first
        while k < source.count, used <= usedLimit, slotsUsed <= slotsLimit {
            let range = source.frameRange(k)
            let n = range.count
            var node: UInt32 = 0
            var depth = 0
            var j = range.upperBound - 1
            // Root-most frames shared with the previous stack reuse its nodes.
            let shared = min(n, pathDepth)
            while depth < shared {
                let key = source.key(j)
                if c.pathKeys![depth] != key { break }
                node = c.pathNodes![depth]
                depth += 1
                j -= 1
            }
            while depth < n {
                let key = source.key(j)
                node = child(of: node, key: key, source, c, &used, &slotsUsed)
                c.pathKeys![depth] = key
                c.pathNodes![depth] = node
                depth += 1
                j -= 1
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
            let m = c.memo![Int(frameKey)]
            if UInt32(truncatingIfNeeded: m) == parent &+ 1 { return UInt32(truncatingIfNeeded: m &>> 32) }
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
            if S.hasMemo { c.memo![Int(frameKey)] = UInt64(node) << 32 | UInt64(parent &+ 1) }
            return node
        } else {
            var slot = homeSlot(parent: parent, location: location, c.slotShift)
            while true {
                let s = c.slots[slot]
                if s == 0 { break }
                node = UInt32(truncatingIfNeeded: s)
                if UInt32(truncatingIfNeeded: s &>> 32) == location, c.parents[Int(node)] == parent {
                    if S.hasMemo { c.memo![Int(frameKey)] = UInt64(node) << 32 | UInt64(parent &+ 1) }
                    return node
                }
                slot = (slot + 1) & c.slotMask
            }
            node = UInt32(truncatingIfNeeded: used)
            c.slots[slot] = UInt64(location) << 32 | UInt64(node)
            slotsUsed += 1
        }
        c.parents[used] = parent
        c.locations[used] = location
        used += 1
        if S.hasMemo { c.memo![Int(frameKey)] = UInt64(node) << 32 | UInt64(parent &+ 1) }
        return node
    }

    /// Where the probe for `(parent, location)` starts.
    @inline(__always)
    private static func homeSlot(parent: UInt32, location: UInt32, _ shift: UInt64) -> Int {
        let key = (UInt64(parent) &+ 1) << 32 | UInt64(location)
        return Int(truncatingIfNeeded: (key &* slotMultiplier) &>> shift)
    }

    private static let slotMultiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Doubles the child table and re-inserts every slot (a slot's parent is its node's).
    private static func grow(_ slots: inout [UInt64], _ slotShift: inout UInt64, parents: [UInt32]) {
        let old = slots
        let slotCount = slots.count * 2
        slots = Array(repeating: 0, count: slotCount)
        slotShift = UInt64(64 - slotCount.trailingZeroBitCount)
        let mask = slotCount - 1
        for s in old where s != 0 {
            let parent = parents[Int(UInt32(truncatingIfNeeded: s))]
            var slot = homeSlot(parent: parent, location: UInt32(truncatingIfNeeded: s &>> 32), slotShift)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = s
        }
    }

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
        let s = Int(samples[k])
        return Int(starts[s]) ..< Int(starts[s + 1])
    }
    @inline(__always) func key(_ j: Int) -> UInt32 { frames[j] }
    @inline(__always) func location(ofKey key: UInt32) -> UInt32 { map[Int(key)] }
}
