import Arena
import SymbolDB
import Testing
import TestSupport

/// The stack tree in a `ColumnArena` (issue #4): `bytesToInsert(frames:deepest:newNodes:)` is
/// never exceeded by the insertions it was asked about (one, or several: a push inserts one
/// batch per label group), with one node per frame or with the nodes `distinctPrefixes`
/// counted, an arena with exactly that much room left takes them, and after a flush the tree
/// reuses the blocks its last segment needed.
@Suite struct StackTreeArenaTests {
    typealias ReferenceTree = StackTreeReferenceTests.ReferenceTree

    /// One insertion: a batch of pprof-style samples read through a location map, or one stack.
    enum Step {
        case batch(samples: [Int32], starts: [UInt32], frames: [UInt32], map: [UInt32])
        case single([UInt32])

        /// Frames of the stacks inserted (a repeated sample counts each time), as the
        /// accumulator counts them before admitting a push.
        var frameCount: Int {
            switch self {
            case let .batch(samples, starts, _, _): samples.reduce(0) { $0 + Int(starts[Int($1) + 1] - starts[Int($1)]) }
            case let .single(stack): stack.count
            }
        }

        /// The frames of the deepest stack inserted.
        var deepest: Int {
            switch self {
            case let .batch(samples, starts, _, _): samples.map { Int(starts[Int($0) + 1] - starts[Int($0)]) }.max() ?? 0
            case let .single(stack): stack.count
            }
        }

        /// The distinct root-first prefixes of every source stack, as the accumulator counts a
        /// push's (frames are keys: a batch's are source indices, a single stack's locations).
        var prefixes: Int {
            let (starts, frames): ([UInt32], [UInt32])
            switch self {
            case let .batch(_, batchStarts, batchFrames, _): (starts, frames) = (batchStarts, batchFrames)
            case let .single(stack): (starts, frames) = ([0, UInt32(stack.count)], stack)
            }
            return starts.withUnsafeBufferPointer { starts in
                frames.withUnsafeBufferPointer { StackTreeBuilder.distinctPrefixes(starts: starts, frames: $0, limit: 1 << 20)! }
            }
        }

        /// Inserts into `tree` and the reference, expecting the same ids.
        func apply(_ tree: inout StackTreeBuilder, _ reference: inout ReferenceTree) {
            switch self {
            case let .batch(samples, starts, frames, map):
                let ids = tree.insert(samples: samples, starts: starts, frames: frames, map: map)
                let expected = samples.map { s in
                    reference.insert(leafFirst: frames[Int(starts[Int(s)]) ..< Int(starts[Int(s) + 1])].map { map[Int($0)] })
                }
                #expect(ids == expected)
            case let .single(stack):
                #expect(stack.withUnsafeBufferPointer { tree.insert(leafFirst: $0) } == reference.insert(leafFirst: stack))
            }
        }
    }

    /// Random steps: batches of 1–400 samples (deep and shallow, repeated, hot locations shared
    /// by many parents, so the table grows in jumps) and single stacks.
    static func steps(seed: UInt64, count: Int) -> [Step] {
        var rng = SplitMix64(seed: seed)
        return (0 ..< count).map { _ in
            if rng.next() % 3 == 0 {
                return .single((0 ..< Int(rng.next() % 50)).map { _ in UInt32(rng.next() % 20) })
            }
            let sources = 1 + Int(rng.next() % 200), maxDepth = 1 + rng.next() % 64
            var map: [UInt32] = [], starts: [UInt32] = [0], frames: [UInt32] = []
            for _ in 0 ..< sources {
                for _ in 0 ..< rng.next() % maxDepth {
                    frames.append(UInt32(map.count))
                    map.append(rng.next() % 4 == 0 ? UInt32(rng.next() % 5000) : UInt32(rng.next() % 16))
                }
                starts.append(UInt32(frames.count))
            }
            let samples = (0 ..< 1 + rng.next() % 400).map { _ in Int32(rng.next() % UInt64(sources)) }
            return .batch(samples: samples, starts: starts, frames: frames, map: map)
        }
    }

    /// The steps cut into pushes of 1–6 insertions.
    static func pushes(_ steps: [Step], seed: UInt64) -> [ArraySlice<Step>] {
        var rng = SplitMix64(seed: seed)
        var pushes: [ArraySlice<Step>] = [], start = 0
        while start < steps.count {
            let end = min(steps.count, start + 1 + Int(rng.next() % 6))
            pushes.append(steps[start ..< end])
            start = end
        }
        return pushes
    }

    /// The bound of inserting `steps`: one node per frame, or (`counted`) the steps' prefixes.
    static func bound(_ tree: StackTreeBuilder, _ steps: some Collection<Step>, counted: Bool) -> Int {
        tree.bytesToInsert(frames: steps.reduce(0) { $0 + $1.frameCount }, deepest: steps.map(\.deepest).max() ?? 0,
                           newNodes: counted ? steps.reduce(0) { $0 + $1.prefixes } : nil)
    }

    @Test func insertionsNeverTakeMoreThanTheBound() {
        let arena = ColumnArena(capacityBytes: 1 << 28)
        var tree = StackTreeBuilder(in: arena, expectedNodes: 1)
        var reference = ReferenceTree()
        var grew = 0, tight = 0, tighter = 0
        for (i, push) in Self.pushes(Self.steps(seed: 3, count: 240), seed: 4).enumerated() {
            if i % 25 == 24 {
                // A flush: the arena starts over, the tree takes blocks the size of its last room.
                arena.reset()
                tree.reset()
                reference = ReferenceTree()
                #expect(arena.usedBytes == tree.reservedBytes)
            }
            let bound = Self.bound(tree, push, counted: false), counted = Self.bound(tree, push, counted: true)
            let before = arena.usedBytes
            for step in push {
                // Each insertion of the push on its own is within its bounds too.
                let own = Self.bound(tree, [step], counted: true), stepBefore = arena.usedBytes
                #expect(own <= Self.bound(tree, [step], counted: false))
                step.apply(&tree, &reference)
                #expect(arena.usedBytes - stepBefore <= own)
            }
            let taken = arena.usedBytes - before
            #expect(taken <= counted && counted <= bound, "push \(i): \(taken) bytes taken, bounds \(counted), \(bound)")
            if taken > 0 { grew += 1 }
            if taken > 0, taken * 10 >= bound { tight += 1 }
            if counted < bound { tighter += 1 }
            #expect(tree.bytesToInsert(frames: 0, deepest: 0) == 0)
        }
        #expect(Array(tree.parents) == reference.parents && Array(tree.locations) == reference.locations)
        #expect(Int(tree.stacktraceCount) == reference.ends.count)
        // The pushes exercise growth, and the bound is not loose by orders of magnitude (it
        // assumes every frame a new node and a new table child).
        #expect(grew >= 6 && tight >= 4, "\(grew) growing pushes, \(tight) within 10× of the bound")
        // Repeated samples and shared callers make counting worth it.
        #expect(tighter >= 20, "\(tighter) pushes with a tighter counted bound")
    }

    /// The case that makes the bound of several insertions more than one growth's: the first
    /// grows the node columns to hold what it needs, the next outgrows them again.
    @Test func aPushWhoseSecondInsertionGrowsTheColumnsAgain() {
        let arena = ColumnArena(capacityBytes: 1 << 28)
        var tree = StackTreeBuilder(in: arena, expectedNodes: 1)
        let long = (1 ... 999).map { UInt32($0) }, next = (5000 ..< 5100).map { UInt32($0) }
        let bound = tree.bytesToInsert(frames: long.count + next.count, deepest: long.count), before = arena.usedBytes
        _ = long.withUnsafeBufferPointer { tree.insert(leafFirst: $0) }
        let afterFirst = arena.usedBytes
        _ = next.withUnsafeBufferPointer { tree.insert(leafFirst: $0) }
        #expect(tree.nodeCount == 1100)
        // Room for 1000 nodes (a 1024-node block, doubled from 16), then for 1100: the three
        // node columns each took a 2048-node block as well.
        #expect(arena.usedBytes - afterFirst >= 3 * ColumnArena.blockBytes(2048 * 4))
        #expect(afterFirst - before >= 3 * ColumnArena.blockBytes(1024 * 4))
        #expect(arena.usedBytes - before <= bound)
    }

    /// Replays the pushes before push `i` in an arena of exactly `usedBytes + bound` bytes at
    /// push `i`, then push `i` (`ColumnArena.allocate` traps on overflow, so finishing is the
    /// check).
    @Test(arguments: [false, true]) func anArenaWithExactlyTheBoundLeftTakesThePush(counted: Bool) {
        let pushes = Self.pushes(Self.steps(seed: 5, count: 60), seed: 6)
        var probe = StackTreeBuilder(in: ColumnArena(capacityBytes: 1 << 28), expectedNodes: 1)
        var probeReference = ReferenceTree()
        var needed: [(push: Int, bytes: Int)] = []
        for (i, push) in pushes.enumerated() {
            let bound = Self.bound(probe, push, counted: counted)
            if bound > 0 { needed.append((i, bound)) }
            for step in push { step.apply(&probe, &probeReference) }
        }
        #expect(needed.count >= 5)
        for (i, bound) in needed {
            var used = 0
            do {
                let arena = ColumnArena(capacityBytes: 1 << 28)
                var tree = StackTreeBuilder(in: arena, expectedNodes: 1)
                var reference = ReferenceTree()
                for step in pushes[..<i].joined() { step.apply(&tree, &reference) }
                used = arena.usedBytes
            }
            let arena = ColumnArena(capacityBytes: used + bound)
            #expect(arena.capacityBytes == used + bound)
            var tree = StackTreeBuilder(in: arena, expectedNodes: 1)
            var reference = ReferenceTree()
            for step in pushes[...i].joined() { step.apply(&tree, &reference) }
            #expect(arena.usedBytes <= arena.capacityBytes)
        }
    }

    /// A second segment with the same insertions takes nothing beyond the blocks `reset()`
    /// took, and builds the same tree (the table zero-filled at its previous size).
    @Test func aRepeatedSegmentReusesTheResetBlocks() {
        let arena = ColumnArena(capacityBytes: 1 << 28)
        var tree = StackTreeBuilder(in: arena, expectedNodes: 1)
        let steps = Self.steps(seed: 9, count: 30)
        var first = ReferenceTree()
        for step in steps { step.apply(&tree, &first) }
        let firstParents = Array(tree.parents), firstReserved = tree.reservedBytes
        arena.reset()
        tree.reset()
        #expect(tree.nodeCount == 1 && tree.stacktraceCount == 0 && tree.byteCount == 20)
        let afterReset = arena.usedBytes
        #expect(afterReset == tree.reservedBytes && afterReset <= firstReserved)
        var second = ReferenceTree()
        for step in steps { step.apply(&tree, &second) }
        #expect(arena.usedBytes == afterReset)
        #expect(Array(tree.parents) == firstParents)
        // Within a segment, reset keeps the blocks.
        tree.reset()
        var third = ReferenceTree()
        for step in steps { step.apply(&tree, &third) }
        #expect(arena.usedBytes == afterReset && Array(tree.parents) == firstParents)
    }
}
