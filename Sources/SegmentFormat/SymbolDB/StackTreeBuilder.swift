/// Builds a partition's stack-trace tree the way Pyroscope's ingestion does (symdb.md §3.4):
/// each stack is walked from its root-most frame to its leaf, a missing `(parent, location)` child
/// becomes node `nodeCount`, and the stack's ID is its leaf node (0 for the empty stack).
///
/// Two things keep an insertion cheap (it is the largest single cost of ingestion):
/// - The child table (open addressing, linear probing, load at most 1/2) stores each child's
///   `(parent, location)` key beside its node index, so a probe reads one slot instead of
///   chasing the node columns.
/// - The previous stack's path is kept: the frames a stack shares with it from the root (often
///   most of them, samples of one profile share their root-most frames) reuse its nodes
///   without a lookup. Nodes are never removed, so the cached path stays valid.
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
    private var slots: [Slot]
    private var slotShift: UInt64

    /// The last inserted stack, root first: its locations and the node of each depth.
    private var pathLocations: [UInt32] = []
    private var pathNodes: [UInt32] = []
    private var pathDepth = 0

    /// A child-table entry; `node` 0 marks an empty slot (the root is never anyone's child).
    private struct Slot {
        var key: UInt64 = 0
        var node: UInt32 = 0
    }

    public var nodeCount: Int { parents.count }

    /// `expectedNodes` sizes the columns and the child table up front.
    public init(expectedNodes: Int = 1024) {
        let capacity = max(16, expectedNodes)
        parents = [SymbolPartition.rootParent]
        locations = [0]
        parents.reserveCapacity(capacity)
        locations.reserveCapacity(capacity)
        isStackEnd = [0]
        isStackEnd.reserveCapacity(capacity / 64 + 1)
        let slotCount = Self.slotCount(for: capacity)
        slots = Array(repeating: Slot(), count: slotCount)
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
        slots.withUnsafeMutableBufferPointer { $0.update(repeating: Slot()) }
        stacktraceCount = 0
        pathDepth = 0
    }

    /// Inserts one stack given leaf first (pprof order) and returns its stack-trace ID.
    public mutating func insert(leafFirst stack: UnsafeBufferPointer<UInt32>) -> UInt32 {
        let n = stack.count
        if pathNodes.count < n {
            pathNodes.append(contentsOf: repeatElement(0, count: n - pathNodes.count))
            pathLocations.append(contentsOf: repeatElement(0, count: n - pathLocations.count))
        }
        var node: UInt32 = 0
        var depth = 0
        // The path is moved out of `self` (no copy) so `child` may mutate `self` meanwhile, and
        // written through pointers: an element store into a stored array checks uniqueness each.
        var nodes = pathNodes, path = pathLocations
        pathNodes = []
        pathLocations = []
        nodes.withUnsafeMutableBufferPointer { nodes in
            path.withUnsafeMutableBufferPointer { path in
                let shared = min(n, pathDepth)
                while depth < shared, path[depth] == stack[n - 1 - depth] {
                    node = nodes[depth]
                    depth += 1
                }
                while depth < n {
                    let location = stack[n - 1 - depth]
                    node = child(of: node, location: location)
                    path[depth] = location
                    nodes[depth] = node
                    depth += 1
                }
            }
        }
        pathNodes = nodes
        pathLocations = path
        pathDepth = n
        let word = Int(node >> 6)
        let bit = UInt64(1) << UInt64(node & 63)
        if isStackEnd[word] & bit == 0 {
            isStackEnd[word] |= bit
            stacktraceCount += 1
        }
        return node
    }

    /// The child of `parent` for `location`, created if missing.
    @inline(__always)
    private mutating func child(of parent: UInt32, location: UInt32) -> UInt32 {
        let key = UInt64(parent) << 32 | UInt64(location)
        let shift = slotShift
        let found: (node: UInt32, slot: Int) = slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var slot = Self.slotIndex(key, shift)
            while true {
                let s = slots[slot]
                if s.node == 0 || s.key == key { return (s.node, slot) }
                slot = (slot + 1) & mask
            }
        }
        if found.node != 0 { return found.node }
        precondition(parents.count < Int(UInt32.max), "stack tree node index overflows u32")
        let node = UInt32(parents.count)
        parents.append(parent)
        locations.append(location)
        if parents.count > isStackEnd.count * 64 { isStackEnd.append(0) }
        slots[found.slot] = Slot(key: key, node: node)
        if parents.count * 2 > slots.count { grow() }
        return node
    }

    @inline(__always)
    private static func slotIndex(_ key: UInt64, _ shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Doubles the child table and re-inserts every slot.
    private mutating func grow() {
        let old = slots
        let slotCount = slots.count * 2
        slots = Array(repeating: Slot(), count: slotCount)
        slotShift = UInt64(64 - slotCount.trailingZeroBitCount)
        let mask = slotCount - 1
        for s in old where s.node != 0 {
            var slot = Self.slotIndex(s.key, slotShift)
            while slots[slot].node != 0 { slot = (slot + 1) & mask }
            slots[slot] = s
        }
    }

    private static func slotCount(for nodes: Int) -> Int {
        var n = 16
        while n < 2 * nodes { n <<= 1 }
        return n
    }
}
