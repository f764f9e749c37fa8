import TestSupport
import SymbolDB
import Testing

/// StackTreeBuilder against a plain dictionary tree (symdb.md §3.4): the same nodes in the same
/// order, the same ids and distinct-stack count, whatever the child table does inside (grows
/// from the smallest size, long probe runs that wrap around its end, locations 0 and near
/// `UInt32.max`, reuse after `reset`).
@Suite struct StackTreeReferenceTests {
    /// §3.4 spelled out: a missing `(parent, location)` child becomes the next node.
    struct ReferenceTree {
        var parents: [UInt32] = [SymbolPartition.rootParent]
        var locations: [UInt32] = [0]
        var children: [UInt64: UInt32] = [:]
        /// Leaf nodes of the stacks inserted, the root for the empty stack.
        var ends: Set<UInt32> = []

        mutating func insert(leafFirst stack: [UInt32]) -> UInt32 {
            var node: UInt32 = 0
            for location in stack.reversed() {
                let key = UInt64(node) << 32 | UInt64(location)
                if let child = children[key] {
                    node = child
                } else {
                    let child = UInt32(parents.count)
                    parents.append(node)
                    locations.append(location)
                    children[key] = child
                    node = child
                }
            }
            ends.insert(node)
            return node
        }
    }

    /// Random stacks over a few "hot" locations (many parents share them, so children of
    /// different parents collide) plus rare extreme ones.
    static func randomStacks(_ rng: inout SplitMix64, count: Int) -> [[UInt32]] {
        let extremes: [UInt32] = [0, 1, UInt32.max, UInt32.max - 1, 1 << 31]
        return (0 ..< count).map { _ in
            (0 ..< Int(rng.next() % 40)).map { _ in
                rng.next() % 50 == 0 ? extremes[Int(rng.next() % 5)] : UInt32(rng.next() % 12)
            }
        }
    }

    @Test func oneByOneMatchesTheReference() {
        var rng = SplitMix64(seed: 42)
        var tree = StackTreeBuilder(expectedNodes: 1)
        for round in 0 ..< 2 {
            var reference = ReferenceTree()
            for stack in Self.randomStacks(&rng, count: 3000) {
                let id = stack.withUnsafeBufferPointer { tree.insert(leafFirst: $0) }
                #expect(id == reference.insert(leafFirst: stack))
            }
            #expect(tree.nodeCount > 20_000, "round \(round) should grow the table several times")
            #expect(Array(tree.parents) == reference.parents)
            #expect(Array(tree.locations) == reference.locations)
            #expect(Int(tree.stacktraceCount) == reference.ends.count)
            tree.reset()
        }
    }

    /// Batches of pprof-style samples (through a location map, samples repeated) build the
    /// reference tree too, also when a batch follows one-by-one inserts.
    @Test func batchesMatchTheReference() {
        var rng = SplitMix64(seed: 7)
        var tree = StackTreeBuilder(expectedNodes: 1)
        var reference = ReferenceTree()
        for stack in Self.randomStacks(&rng, count: 200) {
            let id = stack.withUnsafeBufferPointer { tree.insert(leafFirst: $0) }
            #expect(id == reference.insert(leafFirst: stack))
        }
        for _ in 0 ..< 4 {
            let sources = Self.randomStacks(&rng, count: 800)
            // Source location i maps to a partition location; two sources share one.
            var map: [UInt32] = []
            var starts: [UInt32] = [0], frames: [UInt32] = []
            for stack in sources {
                for location in stack {
                    frames.append(UInt32(map.count))
                    map.append(location)
                }
                starts.append(UInt32(frames.count))
            }
            let samples = (0 ..< 1200).map { _ in Int32(rng.next() % UInt64(sources.count)) }
            let expected = samples.map { reference.insert(leafFirst: sources[Int($0)]) }
            let ids = tree.insert(samples: samples, starts: starts, frames: frames, map: map)
            #expect(ids == expected)
        }
        #expect(Array(tree.parents) == reference.parents)
        #expect(Array(tree.locations) == reference.locations)
        #expect(Int(tree.stacktraceCount) == reference.ends.count)
    }
}
