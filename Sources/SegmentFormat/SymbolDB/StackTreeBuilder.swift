/// Builds a partition's stack-trace tree the way Pyroscope's ingestion does (symdb.md §3.4):
/// each stack is walked from its root-most frame to its leaf, a missing `(parent, location)` child
/// becomes node `nodeCount`, and the stack's ID is its leaf node (0 for the empty stack).
///
/// Children are found through an open-addressing table of node indexes (linear probing, load at
/// most 1/2) that compares against the node columns themselves, so inserting a stack allocates
/// nothing except when a column or the table has to grow (amortized, never per stack).
public struct StackTreeBuilder: Sendable {
    /// Per node, its parent (`SymbolPartition.rootParent` for the root), as the writer takes them.
    public private(set) var parents: [UInt32]
    /// Per node, its location index (0 for the root).
    public private(set) var locations: [UInt32]
    /// Distinct stacks inserted so far, the empty one included (§3.4 step 4).
    public private(set) var stacktraceCount: UInt32 = 0

    /// One bit per node: some inserted stack ended there.
    private var isStackEnd: [UInt64]
    /// Node index per slot; 0 marks an empty slot (the root is never anyone's child).
    private var slots: [UInt32]
    private var slotShift: UInt64

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
        for i in slots.indices { slots[i] = 0 }
        stacktraceCount = 0
    }

    /// Inserts one stack given leaf first (pprof order) and returns its stack-trace ID.
    public mutating func insert(leafFirst stack: UnsafeBufferPointer<UInt32>) -> UInt32 {
        var node: UInt32 = 0
        var i = stack.count
        while i > 0 {
            i -= 1
            node = child(of: node, location: stack[i])
        }
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
        let mask = slots.count - 1
        var slot = slotIndex(parent: parent, location: location)
        while true {
            let candidate = slots[slot]
            if candidate == 0 { break }
            if parents[Int(candidate)] == parent && locations[Int(candidate)] == location { return candidate }
            slot = (slot + 1) & mask
        }
        precondition(parents.count < Int(UInt32.max), "stack tree node index overflows u32")
        let node = UInt32(parents.count)
        parents.append(parent)
        locations.append(location)
        if parents.count > isStackEnd.count * 64 { isStackEnd.append(0) }
        slots[slot] = node
        if parents.count * 2 > slots.count { grow() }
        return node
    }

    @inline(__always)
    private func slotIndex(parent: UInt32, location: UInt32) -> Int {
        let key = UInt64(parent) << 32 | UInt64(location)
        return Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> slotShift)
    }

    /// Doubles the child table and re-inserts every non-root node from the columns.
    private mutating func grow() {
        let slotCount = slots.count * 2
        slots = Array(repeating: 0, count: slotCount)
        slotShift = UInt64(64 - slotCount.trailingZeroBitCount)
        let mask = slotCount - 1
        for node in 1 ..< parents.count {
            var slot = slotIndex(parent: parents[node], location: locations[node])
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(node)
        }
    }

    private static func slotCount(for nodes: Int) -> Int {
        var n = 16
        while n < 2 * nodes { n <<= 1 }
        return n
    }
}
