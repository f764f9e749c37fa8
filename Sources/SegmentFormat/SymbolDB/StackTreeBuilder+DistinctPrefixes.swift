extension StackTreeBuilder {
    /// How many distinct root-first prefixes the stacks have: the nodes a tree of these stacks
    /// alone holds besides its root, so at most the nodes inserting them adds to any tree
    /// (a prefix several stacks share, or one the tree holds already, is one node). Stack `s`
    /// is `frames[j]` for `j` in `starts[s] ..< starts[s + 1]`, leaf first; frames are compared
    /// as keys (equal keys must mean equal locations, as a push's source location indices do).
    /// nil once more than `limit` are found, so the count's own table stays within `4 · limit`
    /// slots of 12 bytes.
    ///
    /// A cold path: the accumulator counts only when the bound of one node per frame does not
    /// fit its arena (a heap profile's 209 386 frames are 16 895 prefixes; a deep stack
    /// sampled under many label sets is one stack of nodes, however often it repeats).
    public static func distinctPrefixes(starts: UnsafeBufferPointer<UInt32>, frames: UnsafeBufferPointer<UInt32>,
                                        limit: Int) -> Int? {
        precondition(limit >= 0 && limit < Int(UInt32.max), "a prefix limit past u32 node numbers")
        var table = PrefixTable()
        // The previous stack's nodes by depth: the root-most frames a stack shares with it
        // (often most, and all of a repeated stack) are compared, not looked up.
        var path: [UInt32] = []
        var previous = 0 ..< 0
        for s in 0 ..< max(0, starts.count - 1) {
            let stack = Int(starts[s]) ..< Int(starts[s + 1])
            var depth = 0
            while depth < min(stack.count, previous.count), frames[stack.upperBound - 1 - depth] == frames[previous.upperBound - 1 - depth] {
                depth += 1
            }
            var node: UInt32 = depth == 0 ? 0 : path[depth - 1]
            path.removeSubrange(depth...)
            while depth < stack.count {
                node = table.child(of: node, key: frames[stack.upperBound - 1 - depth])
                if table.count > limit { return nil }
                path.append(node)
                depth += 1
            }
            previous = stack
        }
        return table.count
    }
}

/// `(parent, key) → child` by open addressing (load ≤ ½); a missing child is made, numbered
/// from 1 (0 is the root).
private struct PrefixTable {
    /// `(parent << 32 | key) + 1`, 0 for a free slot (parents stay below `UInt32.max`).
    private var keys = [UInt64](repeating: 0, count: 1024)
    private var children = [UInt32](repeating: 0, count: 1024)
    private(set) var count = 0

    mutating func child(of parent: UInt32, key: UInt32) -> UInt32 {
        let k = (UInt64(parent) << 32 | UInt64(key)) + 1
        var slot = Self.home(k, keys.count)
        while keys[slot] != 0 {
            if keys[slot] == k { return children[slot] }
            slot = (slot + 1) & (keys.count - 1)
        }
        count += 1
        keys[slot] = k
        children[slot] = UInt32(count)
        if 2 * count > keys.count { grow() }
        return UInt32(count)
    }

    private mutating func grow() {
        let oldKeys = keys, oldChildren = children
        keys = [UInt64](repeating: 0, count: 2 * oldKeys.count)
        children = [UInt32](repeating: 0, count: 2 * oldKeys.count)
        for (i, k) in oldKeys.enumerated() where k != 0 {
            var slot = Self.home(k, keys.count)
            while keys[slot] != 0 { slot = (slot + 1) & (keys.count - 1) }
            keys[slot] = k
            children[slot] = oldChildren[i]
        }
    }

    private static func home(_ k: UInt64, _ size: Int) -> Int {
        Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - size.trailingZeroBitCount))
    }
}
