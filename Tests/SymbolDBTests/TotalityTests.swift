import BinaryCoding
import SymbolDB
import Testing
import TestSupport

/// symdb.md §11 check 7 and the house rule that readers are total: truncations, flipped bytes and
/// random mutations (with checksums repaired, so they reach the decoders) decode or throw.
@Suite struct TotalityTests {
    static func golden() throws -> [UInt8] {
        try #require(try GoldenSections.all().first { $0.name == "01J2VJQV544TF571FDSK2H692P#0" }).symbols
    }

    /// A small file using every optional feature: 16-bit strings, memory columns, addresses,
    /// folded bits, inline lines, a multi-node tree.
    static func synthetic() -> [UInt8] {
        var tree = StackTreeBuilder()
        for stack in [[1, 2, 3], [4, 2, 3], [], [0], [5, 5, 5, 5]] as [[UInt32]] {
            _ = stack.withUnsafeBufferPointer { tree.insert(leafFirst: $0) }
        }
        let strings: [ByteString] = ["", "main", "f", ByteString([UInt8](repeating: 0x7a, count: 260)), "lib.so", "id"]
        let mappings = [
            SymbolMapping(memoryStart: 0x1000, memoryLimit: 0x9000, fileOffset: 0x10, filename: 4, buildID: 5, hasFunctions: true),
            SymbolMapping(filename: 0),
        ]
        let functions = [SymbolFunction(name: 1, systemName: 1, filename: 3, startLine: 7), SymbolFunction(name: 2, startLine: 0x8000_0000)]
        var locations: [SymbolLocation] = []
        for i in 0 ..< 6 {
            var lines = [SymbolLine(functionID: UInt32(i % 2), line: Int32(i))]
            if i == 2 { lines = [SymbolLine(functionID: 1, line: 3), SymbolLine(functionID: 0, line: -4)] }
            locations.append(SymbolLocation(mappingID: UInt32(i % 2), address: UInt64(i) * 0x100, isFolded: i == 1, lines: lines))
        }
        let p = SymbolPartition(strings: strings, mappings: mappings, functions: functions, locations: locations, stackTree: tree)
        return writeSymDB(SymbolDBContents(partitions: [p]))
    }

    /// Decoding either succeeds, yielding a model whose every stack resolves and which re-encodes,
    /// or throws `DecodeError`; anything else (a trap, a hang) fails the test run.
    static func decodeOrThrow(_ bytes: [UInt8]) -> Bool {
        decodeOrError(bytes) == nil
    }

    /// As `decodeOrThrow`, returning the error kind when decoding failed.
    static func decodeOrError(_ bytes: [UInt8]) -> DecodeError.Kind? {
        let contents: SymbolDBContents
        do {
            contents = try readSymDB(bytes)
        } catch {
            return error.kind
        }
        for p in contents.partitions {
            for id in 0 ..< UInt32(p.stackParents.count) where p.stackChunks.count == 1 {
                _ = try? p.resolveStack(id)
            }
        }
        _ = writeSymDB(contents)
        return nil
    }

    @Test func syntheticFileRoundTrips() throws {
        let bytes = Self.synthetic()
        #expect(writeSymDB(try readSymDB(bytes)) == bytes)
        var repaired = bytes
        ChecksumRepair.repair(&repaired)
        #expect(repaired == bytes)
    }

    @Test func everyTruncationOfAGoldenSectionIsRejected() throws {
        let bytes = try Self.golden()
        for n in 0 ..< bytes.count {
            #expect(throws: DecodeError.self, "prefix \(n)") { try readSymDB(Array(bytes[..<n])) }
        }
    }

    @Test func everySingleByteDeletionDecodesOrThrows() {
        let bytes = Self.synthetic()
        for i in 0 ..< bytes.count {
            var cut = bytes
            cut.remove(at: i)
            #expect(throws: DecodeError.self) { _ = try readSymDB(cut) }
            ChecksumRepair.repair(&cut)
            _ = Self.decodeOrThrow(cut)
        }
    }

    @Test func flippedBytesInChecksummedRegionsAreRejected() throws {
        let bytes = try Self.golden()
        var rng = SplitMix64(seed: 11)
        for _ in 0 ..< 1500 {
            var m = bytes
            let at = Int(rng.next() % UInt64(m.count))
            m[at] ^= UInt8(1 + rng.next() % 255)
            #expect(throws: DecodeError.self, "byte \(at)") { _ = try readSymDB(m) }
        }
    }

    @Test(arguments: [0, 1])
    func seededMutationsWithRepairedChecksumsDecodeOrThrow(fileIndex: Int) throws {
        let bytes = fileIndex == 0 ? Self.synthetic() : try Self.golden()
        var rng = SplitMix64(seed: 1234 + UInt64(fileIndex))
        var decoded = 0
        var checksumFailures = 0
        let rounds = fileIndex == 0 ? 3000 : 1500
        for _ in 0 ..< rounds {
            var m = bytes
            for _ in 0 ..< 1 + Int(rng.next() % 3) {
                let at = Int(rng.next() % UInt64(m.count))
                switch rng.next() % 3 {
                case 0: m[at] ^= UInt8(1) << UInt8(rng.next() % 8)
                case 1: m[at] = UInt8(truncatingIfNeeded: rng.next())
                default: m[at] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                }
            }
            ChecksumRepair.repair(&m)
            switch Self.decodeOrError(m) {
            case nil: decoded += 1
            case .checksum?: checksumFailures += 1
            default: break
            }
        }
        // The repair works: most mutations reach the structure checks behind the checksums.
        #expect(checksumFailures < rounds / 4, "\(checksumFailures) checksum failures, \(decoded) decoded")
        #expect(decoded < rounds)
    }

    @Test func wrongMagicAndVersionsAreRejected() throws {
        let bytes = try Self.golden()
        let footer = bytes.count - 24
        let index = Int(ChecksumRepair.be64(bytes, footer + 8))
        for (at, value) in [(footer, 0x00), (footer + 7, 4), (footer + 7, 2), (index, 0x00), (index + 7, 4)] as [(Int, UInt8)] {
            var m = bytes
            m[at] = value
            ChecksumRepair.repair(&m)
            #expect(throws: DecodeError.self, "byte \(at) = \(value)") { _ = try readSymDB(m) }
        }
        // An index offset past the footer, and table offsets past the index.
        var m = bytes
        ChecksumRepair.setBE32(&m, footer + 12, UInt32(footer + 1))
        ChecksumRepair.repair(&m)
        #expect(throws: DecodeError.self) { _ = try readSymDB(m) }
        m = bytes
        ChecksumRepair.setBE32(&m, index + 112 + 4, UInt32(index))
        ChecksumRepair.repair(&m)
        #expect(throws: DecodeError.self) { _ = try readSymDB(m) }
    }

    @Test func errorsNameTheirRegionAndFileOffset() throws {
        var m = try Self.golden()
        m[7900] ^= 1 // inside the locations table [7838, 8397) of the worked example
        do {
            _ = try readSymDB(m)
            Issue.record("a corrupted locations table was accepted")
        } catch {
            #expect(error.kind == .checksum)
            #expect(error.offset == 7838)
            #expect(error.context.last == "locations table")
        }
    }

    @Test func outOfRangeReferencesAreRejected() {
        func rejects(_ edit: (inout SymbolPartition) -> Void) -> Bool {
            var p = SymbolPartition(
                strings: ["", "f"], mappings: [SymbolMapping(filename: 1)], functions: [SymbolFunction(name: 1)],
                locations: [SymbolLocation(lines: [SymbolLine(functionID: 0, line: 1)])],
                stackParents: [SymbolPartition.rootParent, 0], stackLocations: [0, 0])
            edit(&p)
            return (try? readSymDB(writeSymDB(SymbolDBContents(partitions: [p])))) == nil
        }
        #expect(!rejects { _ in })
        #expect(rejects { $0.mappings[0].buildID = 2 })
        #expect(rejects { $0.functions[0].systemName = 9 })
        #expect(rejects { $0.locations[0].mappingID = 1 })
        #expect(rejects { $0.locations[0].lines[0].functionID = 1 })
        #expect(rejects { $0.stackLocations[1] = 1 })
        #expect(rejects { $0.stackParents[1] = 1 })
        #expect(rejects { $0.stackParents[0] = 0 })
    }

    @Test func hugeCountsFailWithoutHugeAllocations() throws {
        let bytes = Self.synthetic()
        let footer = bytes.count - 24
        let index = Int(ChecksumRepair.be64(bytes, footer + 8))
        // Node count, then each table's length, set to 2^32 - 1.
        for at in [index + 36 + 36] + (0 ..< 4).map({ index + 112 + 32 * $0 + 16 }) {
            var m = bytes
            ChecksumRepair.setBE32(&m, at, .max)
            ChecksumRepair.repair(&m)
            #expect(throws: DecodeError.self, "field at \(at - index)") { _ = try readSymDB(m) }
        }
    }
}
