import BinaryCoding
import SymbolDB
import Testing
import TestSupport

/// symdb.md §8 (worked example, golden 01J2VJQV544TF571FDSK2H692P) and §11 check 3.
@Suite struct WorkedExampleTests {
    static func section(_ name: String) throws -> [UInt8] {
        try #require(try GoldenSections.all().first { $0.name == name }).symbols
    }

    static func partition(_ name: String) throws -> SymbolPartition {
        let bytes = try section(name)
        let contents = try readSymDB(bytes)
        return try #require(contents.partitions.first)
    }

    /// Function names of a stack, leaf first, each location's lines in stored order (§7).
    static func functionNames(_ p: SymbolPartition, stack: UInt32) throws -> [String] {
        try p.functionNames(ofStack: stack).map(\.description)
    }

    @Test func layoutMatchesTheWorkedExample() throws {
        let bytes = try Self.section("01J2VJQV544TF571FDSK2H692P#0")
        #expect(bytes.count == 9005)
        #expect(hexString(Array(bytes[8981...])) == "73796d3100000003000000000000222100000000c14f254f")
        #expect(hexString(Array(bytes[0 ..< 12])) == "000000a80b08000090720d0a")
        #expect(hexString(Array(bytes[12 ..< 18])) == "000705030b11")
        #expect(hexString(Array(bytes[6573 ..< 6605])) == "000000030000002c0000000a0000001a000000d4000000d400000058e6b2a8b0")
        #expect(hexString(Array(bytes[8397 ..< 8407])) == "0001000231" + "000230022f")
        // Index: partition header and the chunk header (§8 listing, offsets within the index).
        let index = Array(bytes[8737 ..< 8981])
        #expect(hexString(Array(index[0 ..< 16])) == "73796d31000000030000000000000000")
        #expect(hexString(Array(index[16 ..< 32])) == "00000000000000d00000000000000020")
        #expect(hexString(Array(index[32 ..< 48])) == "00000001044353abb366434b00000001")
        #expect(hexString(Array(index[72 ..< 112])) == "0000000100000000" + "0000000f" + "00000087" + "00000000" + "00400000"
            + String(repeating: "00", count: 12) + "424d877b")
        #expect(hexString(Array(index[208 ..< 244])) == "0000000000000000000019ad61025931000000a800000400000c0004000000004b2f6025")
    }

    @Test func stacksResolveToTheWorkedExampleNames() throws {
        let p = try Self.partition("01J2VJQV544TF571FDSK2H692P#0")
        #expect(try p.resolveStack(26) == [91, 92])
        #expect(try p.resolveStack(54) == [50, 88, 89, 90])
        #expect(try p.resolveStack(72) == [0, 1, 2, 3, 4])
        #expect(try p.resolveStack(0) == [])
        #expect(try Self.functionNames(p, stack: 26) == [
            "runtime.selectgo",
            "github.com/hashicorp/memberlist.(*Memberlist).packetListen",
        ])
        #expect(try Self.functionNames(p, stack: 54) == [
            "runtime.memclrNoHeapPointers",
            "runtime.growslice",
            "io.ReadAll",
            "github.com/grafana/dskit/kv/memberlist.(*TCPTransport).handleConnection",
        ])
        #expect(try Self.functionNames(p, stack: 72) == [
            "runtime.stkbucket",
            "runtime.saveblockevent",
            "runtime.blockevent",
            "runtime.selectgo",
            "github.com/grafana/dskit/kv/memberlist.(*KV).processValueUpdate",
        ])
        #expect(p.locations[91].lines == [SymbolLine(functionID: 3, line: 328)])
        #expect(Array(p.strings.prefix(6)) == ["", "samples", "count", "cpu", "nanoseconds", "runtime.stkbucket"])
        #expect(p.stackParents.prefix(4) == [SymbolPartition.rootParent, 0, 1, 2])
        #expect(p.stackLocations.prefix(4) == [0, 49, 48, 47])
        #expect(throws: DecodeError.self) { try p.resolveStack(135) }
    }

    @Test func mappingsOfTheWorkedExample() throws {
        let p = try Self.partition("01J2VJQV544TF571FDSK2H692P#0")
        #expect(p.mappings.map { p.strings[Int($0.filename)] } == ["/usr/bin/pyroscope", "/mnt/rv/[rosetta]", "[vdso]"])
        #expect(p.mappings[0].hasFunctions && p.mappings[0].memoryStart == 0)
        #expect(p.mappings[1].memoryStart == 0x8000_0002_5000)
        #expect(p.mappings[1].memoryLimit == 0x8000_0009_3000)
        #expect(p.mappings[1].fileOffset == 0x25000)
        #expect(p.mappings[2].memoryStart == 0xffff_abcd_d000)
    }

    @Test func inlineFramesResolveInStoredOrder() throws {
        let p = try Self.partition("01J2VJR31PT3X4NDJC4Q2BHWQ1#0")
        let stack = try p.resolveStack(3)
        #expect(stack.contains(96))
        let lines = p.locations[96].lines.map { (p.strings[Int(p.functions[Int($0.functionID)].name)].description, $0.line) }
        #expect(lines.map(\.0) == ["runtime.doInit", "runtime.main"])
        #expect(lines.map(\.1) == [6707, 249])
    }
}
