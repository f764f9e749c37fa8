import BinaryCoding
import SymbolDB
import Testing
import TestSupport

/// Golden `symbols.symdb` sections: parse, counts of symdb.md §11 check 2, resolution (check 3)
/// and byte-exact round trip (check 4).
@Suite struct GoldenSymbolDBTests {
    struct Expected {
        var key: UInt64
        var stacks: Int
        var nodes: Int
        var locations: Int
        var lines: Int
        var mappings: Int
        var functions: Int
        var strings: Int
    }

    /// symdb.md §11 check 2, by `segment#dataset`.
    static let expected: [String: Expected] = [
        "01J2VJQPYDC160REPAD2VN88XN#0": .init(key: 0x1246d48a8d63e9a2, stacks: 55, nodes: 323, locations: 156, lines: 165, mappings: 3, functions: 160, strings: 245),
        "01J2VJQRGBK8YFWVV8K1MPRRWM#0": .init(key: 0xba26128ca8b9fc10, stacks: 15, nodes: 130, locations: 123, lines: 135, mappings: 6, functions: 120, strings: 200),
        "01J2VJQRTMSCY4VDYBP5N4N5JK#0": .init(key: 0x044353abb366434b, stacks: 57, nodes: 297, locations: 145, lines: 151, mappings: 3, functions: 147, strings: 231),
        "01J2VJQTJ3PGF7KB39ARR1BX3Y#0": .init(key: 0x1246d48a8d63e9a2, stacks: 39, nodes: 250, locations: 206, lines: 233, mappings: 3, functions: 195, strings: 295),
        "01J2VJQV544TF571FDSK2H692P#0": .init(key: 0x044353abb366434b, stacks: 15, nodes: 135, locations: 115, lines: 128, mappings: 3, functions: 114, strings: 168),
        "01J2VJQX8DYHSEBK7BAQSCJBMG#0": .init(key: 0x1246d48a8d63e9a2, stacks: 33, nodes: 339, locations: 261, lines: 280, mappings: 3, functions: 244, strings: 355),
        "01J2VJQYQVZTPZMMJKE7F2XC47#0": .init(key: 0x1246d48a8d63e9a2, stacks: 60, nodes: 376, locations: 312, lines: 347, mappings: 3, functions: 290, strings: 414),
        "01J2VJQZPARDJQ779S1JMV0XQA#0": .init(key: 0x1246d48a8d63e9a2, stacks: 56, nodes: 341, locations: 177, lines: 187, mappings: 3, functions: 181, strings: 275),
        "01J2VJR0R3NQS23SDADNA6XHCM#0": .init(key: 0xba26128ca8b9fc10, stacks: 55, nodes: 253, locations: 205, lines: 240, mappings: 6, functions: 199, strings: 312),
        "01J2VJR0R3NQS23SDADNA6XHCM#1": .init(key: 0x1246d48a8d63e9a2, stacks: 119, nodes: 685, locations: 460, lines: 512, mappings: 4, functions: 431, strings: 612),
        "01J2VJR31PT3X4NDJC4Q2BHWQ1#0": .init(key: 0x044353abb366434b, stacks: 22, nodes: 154, locations: 125, lines: 148, mappings: 3, functions: 128, strings: 189),
    ]

    @Test func everyGoldenSectionParsesWithTheSpecCounts() throws {
        let datasets = try GoldenSections.all()
        #expect(datasets.count == 11)
        for ds in datasets {
            let expected = try #require(Self.expected[ds.name], "\(ds.name)")
            let contents = try readSymDB(ds.symbols)
            #expect(contents.partitions.count == 1, "\(ds.name)")
            let p = try #require(contents.partitions.first)
            #expect(p.key == expected.key, "\(ds.name)")
            #expect(p.stacktraceCount == expected.stacks, "\(ds.name)")
            #expect(p.stackParents.count == expected.nodes, "\(ds.name)")
            #expect(p.locations.count == expected.locations, "\(ds.name)")
            #expect(p.locations.reduce(0) { $0 + $1.lines.count } == expected.lines, "\(ds.name)")
            #expect(p.mappings.count == expected.mappings, "\(ds.name)")
            #expect(p.functions.count == expected.functions, "\(ds.name)")
            #expect(p.strings.count == expected.strings, "\(ds.name)")
            #expect(p.maxNodesPerChunk == 4_194_304, "\(ds.name)")
            #expect(p.strings.first == ByteString.empty, "\(ds.name)")
            // Every node is a stack (its leaf): all must resolve, to a chain as long as its depth.
            for id in 0 ..< UInt32(p.stackParents.count) {
                let stack = try p.resolveStack(id)
                #expect(stack.count <= Int(id), "\(ds.name) stack \(id)")
            }
        }
    }

    @Test func goldenSectionsReencodeByteForByte() throws {
        for ds in try GoldenSections.all() {
            let contents = try readSymDB(ds.symbols)
            var w = ByteWriter()
            SymbolDBWriter.write(contents, into: &w)
            #expect(w.bytes.count == ds.symbols.count, "\(ds.name)")
            if w.bytes != ds.symbols {
                let first = zip(w.bytes, ds.symbols).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(w.bytes.count, ds.symbols.count)
                Issue.record("\(ds.name): first difference at byte \(first)")
            }
        }
    }

    @Test func writerAppendsWithSectionRelativeOffsets() throws {
        let ds = try #require(try GoldenSections.all().first)
        let contents = try readSymDB(ds.symbols)
        var w = ByteWriter()
        w.append(contentsOf: [1, 2, 3, 4, 5])
        SymbolDBWriter.write(contents, into: &w)
        #expect(Array(w.bytes.dropFirst(5)) == ds.symbols)
    }
}
