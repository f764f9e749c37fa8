import TestSupport
import BinaryCoding
import SymbolDB
import Testing

/// symdb.md §11 check 6 (writer edge cases) and the StackTreeBuilder round trip (§3.4).
@Suite struct WriterEdgeCaseTests {
    static func write(_ p: SymbolPartition) -> [UInt8] {
        var w = ByteWriter()
        SymbolDBWriter.write(SymbolDBContents(partitions: [p]), into: &w)
        return w.bytes
    }

    static func read(_ bytes: [UInt8]) throws -> SymbolPartition {
        let contents = try readSymDB(bytes)
        #expect(contents.partitions.count == 1)
        return try #require(contents.partitions.first)
    }

    /// The index's partition header, for a file with one partition and one chunk.
    struct IndexView {
        let bytes: [UInt8]
        let index: Int
        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            index = Int(be64(bytes, bytes.count - 16))
        }
        var chunk: ArraySlice<UInt8> { bytes[(index + 48) ..< (index + 112)] }
        /// 0 locations, 1 mappings, 2 functions, 3 strings.
        func table(_ k: Int) -> ArraySlice<UInt8> { bytes[(index + 112 + 32 * k) ..< (index + 144 + 32 * k)] }
    }

    static func be64(_ b: [UInt8], _ at: Int) -> UInt64 { b[at ..< at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
    static func be32(_ b: some Collection<UInt8>) -> UInt32 { b.prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }

    @Test func emptyTablesAndAnEmptyStack() throws {
        var tree = StackTreeBuilder()
        let id = [UInt32]().withUnsafeBufferPointer { tree.insert(leafFirst: $0) }
        #expect(id == 0)
        let p = SymbolPartition(strings: [""], mappings: [], functions: [], locations: [], stackTree: tree)
        let bytes = Self.write(p)
        let view = IndexView(bytes)
        // Strings hold [""]: one block of 12 header bytes and one length byte.
        #expect(hexString(Array(bytes[0 ..< 13])) == "0000000100080000" + hexString(crc(Array(bytes[0 ..< 8]))) + "00")
        // The tree: one node, 00 01 00 00 00, one stack.
        #expect(hexString(Array(bytes[13 ..< 18])) == "0001000000")
        #expect(Self.be32(view.chunk.dropFirst(32)) == 1)
        #expect(Self.be32(view.chunk.dropFirst(36)) == 1)
        #expect(Self.be32(view.chunk.dropFirst(44)) == 0xFFFF_FFFF)
        for (k, headerSize, format) in [(0, "001c", "0001"), (1, "0020", "0003"), (2, "0018", "0002")] {
            // offset = 13 (after the strings), size 0, CRC 0, length 0, block size 1024.
            #expect(hexString(Array(view.table(k))) == "000000000000000d" + "00000000" + "00000000" + "00000000" + "00000400"
                + headerSize + format + "00000000", "table \(k)")
        }
        let back = try Self.read(bytes)
        #expect(back.strings == [""] && back.mappings.isEmpty && back.functions.isEmpty && back.locations.isEmpty)
        #expect(back.stackParents == [SymbolPartition.rootParent] && back.stacktraceCount == 1)
    }

    @Test func wideStringsUseSixteenBitLengthsAndTheirScratchByte() throws {
        let strings: [ByteString] = ["", ByteString([UInt8](repeating: 0x61, count: 300)), ByteString([UInt8](repeating: 0x62, count: 513)), "x"]
        let bytes = Self.write(SymbolPartition(strings: strings))
        // count 4, scratch = len(s[2]) >> 8 = 2, encoding 16.
        #expect(hexString(Array(bytes[0 ..< 8])) == "0000000402100000")
        #expect(hexString(Array(bytes[12 ..< 20])) == "0000012c02010001")
        #expect(try Self.read(bytes).strings == strings)
    }

    @Test func shortFinalStringsBlockRepeatsThePreviousScratchByte() throws {
        var strings: [ByteString] = ["", "a", "bb", "ccc", "nanoseconds"]
        while strings.count < 1027 { strings.append(ByteString("s\(strings.count)")) }
        let bytes = Self.write(SymbolPartition(strings: strings))
        #expect(bytes[4] == 11)
        // Second block: 3 strings, after the first block's 12 + 1024 + data bytes.
        let firstData = strings.prefix(1024).reduce(0) { $0 + $1.count }
        let second = 12 + 1024 + firstData
        #expect(hexString(Array(bytes[second ..< second + 8])) == "000000030b080000")
        #expect(try Self.read(bytes).strings == strings)
    }

    @Test func foldedLocationPastSlotTwoGivesAnAllZeroBitmap() throws {
        var locations = (0 ..< 10).map { _ in SymbolLocation(mappingID: 0, address: 0, lines: [SymbolLine(functionID: 0, line: 1)]) }
        locations[5].isFolded = true
        let p = SymbolPartition(
            strings: ["", "f"], mappings: [SymbolMapping(filename: 1)], functions: [SymbolFunction(name: 1)], locations: locations)
        let bytes = Self.write(p)
        let view = IndexView(bytes)
        let start = Int(Self.be64(Array(view.table(0)), 0))
        let size = Int(Self.be32(view.table(0).dropFirst(8)))
        // Header field 5 (folded_size) = 10/8 + 1 = 2, and the table ends with those two zero bytes.
        #expect(Self.be32(bytes[(start + 20) ..< (start + 24)]) == 2)
        #expect(Array(bytes[(start + size - 2) ..< (start + size)]) == [0, 0])
        let back = try Self.read(bytes)
        #expect(back.locations.allSatisfy { !$0.isFolded })
        // Slots 0 to 2 do survive.
        locations[5].isFolded = false
        locations[1].isFolded = true
        locations[2].isFolded = true
        var q = p
        q.locations = locations
        let again = try Self.read(Self.write(q))
        #expect(again.locations.map { $0.isFolded } == [false, true, true] + [Bool](repeating: false, count: 7))
    }

    @Test func extremeValuesRoundTrip() throws {
        let p = SymbolPartition(
            strings: ["", "n"],
            mappings: [SymbolMapping(memoryStart: 1 << 63, memoryLimit: .max, fileOffset: 1 << 63 | 5, filename: 1, buildID: 0,
                                     hasFunctions: true, hasFilenames: false, hasLineNumbers: true, hasInlineFrames: true)],
            functions: [SymbolFunction(name: 1, systemName: 1, filename: 0, startLine: 0x8000_0001), SymbolFunction(startLine: .max)],
            locations: [SymbolLocation(mappingID: 0, address: 0xFFFF_FFFF_FFFF_FFF0,
                                       lines: [SymbolLine(functionID: 1, line: .min), SymbolLine(functionID: 0, line: .max)])])
        let back = try Self.read(Self.write(p))
        #expect(back.mappings == p.mappings)
        #expect(back.functions == p.functions)
        #expect(Array(back.locations) == p.locations)
    }

    @Test func manyBlocksRoundTripAndReencodeExactly() throws {
        var rng = SplitMix64(seed: 42)
        var p = SymbolPartition(strings: (0 ..< 2100).map { ByteString("string-\($0)") })
        p.mappings = (0 ..< 1030).map { i in
            SymbolMapping(memoryStart: i < 1024 ? 0 : rng.next(), filename: UInt32(i % 2100), hasFunctions: i % 2 == 0)
        }
        p.functions = (0 ..< 3000).map { SymbolFunction(name: UInt32($0 % 2100), startLine: UInt32($0)) }
        p.locations = []
        for i in 0 ..< 2500 {
            var lines: [SymbolLine] = []
            for k in 0 ..< i % 4 { lines.append(SymbolLine(functionID: UInt32((k + i) % 3000), line: Int32(k))) }
            let address: UInt64 = i % 3 == 0 ? rng.next() : 0
            p.locations.append(SymbolLocation(mappingID: UInt32(i % 1030), address: address, isFolded: i % 1024 == 1, lines: lines))
        }
        var tree = StackTreeBuilder(expectedNodes: 4)
        var stacks: [[UInt32]] = []
        var ids: [UInt32] = []
        for _ in 0 ..< 3000 {
            let depth = Int(rng.next() % 12)
            let stack = (0 ..< depth).map { _ in UInt32(rng.next() % 40) }
            stacks.append(stack)
            ids.append(stack.withUnsafeBufferPointer { tree.insert(leafFirst: $0) })
        }
        p = SymbolPartition(strings: p.strings, mappings: p.mappings, functions: p.functions, locations: p.locations, stackTree: tree)
        #expect(Set(stacks).count == Int(tree.stacktraceCount))
        let bytes = Self.write(p)
        let back = try Self.read(bytes)
        #expect(back.strings == p.strings)
        #expect(back.mappings == p.mappings)
        #expect(back.functions == p.functions)
        #expect(Array(back.locations) == p.locations)
        #expect(back.stacktraceCount == Set(stacks).count)
        for (stack, id) in zip(stacks, ids) {
            #expect(try back.resolveStack(id) == stack)
        }
        #expect(Self.write(back) == bytes)
    }

    @Test func stackTreeBuilderAssignsNodesInCreationOrder() {
        var tree = StackTreeBuilder(expectedNodes: 1)
        func insert(_ s: [UInt32]) -> UInt32 { s.withUnsafeBufferPointer { tree.insert(leafFirst: $0) } }
        #expect(insert([3, 2, 1]) == 3) // nodes 1 (loc 1), 2 (loc 2), 3 (loc 3)
        #expect(insert([4, 2, 1]) == 4)
        #expect(insert([2, 1]) == 2)
        #expect(insert([1]) == 1)
        #expect(insert([3, 2, 1]) == 3)
        #expect(insert([1, 2]) == 6) // loc 2 under the root is node 5, loc 1 under it node 6
        #expect(Array(tree.parents) == [SymbolPartition.rootParent, 0, 1, 2, 2, 0, 5])
        #expect(Array(tree.locations) == [0, 1, 2, 3, 4, 2, 1])
        #expect(tree.stacktraceCount == 5)
        tree.reset()
        #expect(tree.nodeCount == 1 && tree.stacktraceCount == 0)
        #expect(insert([9]) == 1)
    }

    /// The batch insertion (pprof samples read through a location map, in groups, some
    /// samples skipped or repeated, several source indices mapping to one location) builds
    /// the same tree and ids as inserting the mapped stacks one by one.
    @Test func batchInsertionMatchesOneByOne() {
        var rng = SplitMix64(seed: 11)
        var single = StackTreeBuilder(expectedNodes: 2)
        var batched = StackTreeBuilder(expectedNodes: 2)
        for _ in 0 ..< 6 {
            let sourceLocations = 1 + Int(rng.next() % 60)
            let map = (0 ..< sourceLocations).map { _ in UInt32(rng.next() % 25) }
            var starts: [UInt32] = [0], frames: [UInt32] = []
            for _ in 0 ..< 400 {
                for _ in 0 ..< rng.next() % 30 { frames.append(UInt32(rng.next() % UInt64(sourceLocations))) }
                starts.append(UInt32(frames.count))
            }
            let samples = (0 ..< 500).map { _ in Int32(rng.next() % 400) }
            var expected: [UInt32] = []
            for s in samples {
                let stack = frames[Int(starts[Int(s)]) ..< Int(starts[Int(s) + 1])].map { map[Int($0)] }
                expected.append(stack.withUnsafeBufferPointer { single.insert(leafFirst: $0) })
            }
            let ids = batched.insert(samples: samples, starts: starts, frames: frames, map: map)
            #expect(ids == expected)
            #expect(Array(batched.parents) == Array(single.parents))
            #expect(Array(batched.locations) == Array(single.locations))
            #expect(batched.stacktraceCount == single.stacktraceCount)
        }
    }
}

private func crc(_ b: [UInt8]) -> [UInt8] {
    let c = CRC32C.checksum(b)
    return [UInt8(c >> 24), UInt8(truncatingIfNeeded: c >> 16), UInt8(truncatingIfNeeded: c >> 8), UInt8(truncatingIfNeeded: c)]
}
