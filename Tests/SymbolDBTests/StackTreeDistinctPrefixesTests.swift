import Arena
import SymbolDB
import Testing
import TestSupport

/// `StackTreeBuilder.distinctPrefixes`: the nodes a tree of the stacks alone holds, the count
/// the accumulator admits a push by when one node per frame does not fit its arena.
@Suite struct StackTreeDistinctPrefixesTests {
    typealias ReferenceTree = StackTreeReferenceTests.ReferenceTree

    static func count(_ stacks: [[UInt32]], limit: Int = 1 << 20) -> Int? {
        var starts: [UInt32] = [0]
        for stack in stacks { starts.append(starts.last! + UInt32(stack.count)) }
        let frames = Array(stacks.joined())
        return starts.withUnsafeBufferPointer { starts in
            frames.withUnsafeBufferPointer { StackTreeBuilder.distinctPrefixes(starts: starts, frames: $0, limit: limit) }
        }
    }

    @Test func equalsTheNodesOfATreeOfTheStacks() {
        var rng = SplitMix64(seed: 21)
        for round in 0 ..< 20 {
            let stacks = StackTreeReferenceTests.randomStacks(&rng, count: 1 + round * 40)
            var reference = ReferenceTree()
            for stack in stacks { _ = reference.insert(leafFirst: stack) }
            #expect(Self.count(stacks) == reference.parents.count - 1, "round \(round)")
        }
        #expect(Self.count([]) == 0 && Self.count([[], []]) == 0)
    }

    /// A deep stack sampled again and again (as under many label sets) is one path of nodes;
    /// a stack that extends another adds only its own frames.
    @Test func repeatedAndSharedStacksAddNoNodes() {
        let deep = (0 ..< 800).map { UInt32($0 % 3) }
        #expect(Self.count(Array(repeating: deep, count: 500)) == 800)
        #expect(Self.count([deep, [9] + deep, [7, 9] + deep]) == 802)
        // Leaf first: these share no root-most frame.
        #expect(Self.count([[1, 2], [2, 1]]) == 4)
    }

    @Test func stopsPastTheLimit() {
        let stacks = [(0 ..< 100).map { UInt32($0) }]
        #expect(Self.count(stacks, limit: 100) == 100)
        #expect(Self.count(stacks, limit: 99) == nil)
        #expect(Self.count(stacks, limit: 0) == nil)
    }

    /// Samples of one deep stack: the frame bound is hundreds of times what the tree takes;
    /// the counted bound holds what it takes, and an arena of exactly that much more room
    /// takes the insertion (`ColumnArena.allocate` traps on overflow).
    @Test func aCountedBoundHoldsManySamplesOfOneDeepStack() {
        let deep = (0 ..< 800).map { UInt32($0 % 5) }
        let samples = [Int32](repeating: 0, count: 500)
        let starts: [UInt32] = [0, UInt32(deep.count)], map = (0 ..< 5).map { UInt32($0) + 10 }
        let prefixes = starts.withUnsafeBufferPointer { starts in
            deep.withUnsafeBufferPointer { StackTreeBuilder.distinctPrefixes(starts: starts, frames: $0, limit: 1 << 20)! }
        }
        let probe = StackTreeBuilder(in: ColumnArena(capacityBytes: 1 << 28), expectedNodes: 1)
        let frames = samples.count * deep.count
        let counted = probe.bytesToInsert(frames: frames, deepest: deep.count, newNodes: prefixes)
        #expect(counted * 100 < probe.bytesToInsert(frames: frames, deepest: deep.count))
        let setUp = ColumnArena(capacityBytes: 1 << 28)
        _ = StackTreeBuilder(in: setUp, expectedNodes: 1)
        let arena = ColumnArena(capacityBytes: setUp.usedBytes + counted)
        var tree = StackTreeBuilder(in: arena, expectedNodes: 1)
        let ids = tree.insert(samples: samples, starts: starts, frames: deep, map: map)
        #expect(tree.nodeCount == 801 && Set(ids) == [800])
        #expect(arena.usedBytes <= arena.capacityBytes)
    }
}
