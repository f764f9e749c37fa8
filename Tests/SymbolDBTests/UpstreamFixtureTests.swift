import BinaryCoding
import Foundation
import SymbolDB
import Testing

/// The upstream v3 fixture (`pkg/phlaredb/symdb/testdata/symbols/v3/symbols.symdb`): legacy chunked
/// trees, two partitions (symdb.md §7, §9, §11 checks 2 and 4). Read from the upstream mirror at
/// test time (never committed); skipped when the mirror is absent.
@Suite struct UpstreamFixtureTests {
    static let mirror = "/work/.mirror/grafana+pyroscope/repo"

    static func fixture() -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: mirror) else { return nil }
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", mirror, "show", "HEAD:pkg/phlaredb/symdb/testdata/symbols/v3/symbols.symdb"]
        let pipe = Pipe()
        git.standardOutput = pipe
        git.standardError = FileHandle.nullDevice
        guard (try? git.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        git.waitUntilExit()
        return git.terminationStatus == 0 ? [UInt8](data) : nil
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: mirror)))
    func chunkedFixtureParsesResolvesAndRoundTrips() throws {
        let bytes = try #require(Self.fixture())
        #expect(bytes.count == 89300)
        let contents = try readSymDB(bytes)
        #expect(contents.partitions.map(\.key) == [0, 1])
        for p in contents.partitions {
            #expect(p.maxNodesPerChunk == 1024)
            #expect(p.stackChunks.map(\.nodeCount) == [1004, 1001, 314])
            #expect(p.stacktraceCount == 1030)
            #expect(p.stackParents.count == 2319)
            #expect(p.locations.count == 718)
            #expect(p.locations.reduce(0) { $0 + $1.lines.count } == 851)
            #expect(p.mappings.count == 3)
            #expect(p.functions.count == 506)
            #expect(p.strings.count == 699)
            // ID = chunk · max_nodes + local: every node of every chunk resolves.
            for (c, chunk) in p.stackChunks.enumerated() {
                for local in 0 ..< chunk.nodeCount {
                    _ = try p.resolveStack(UInt32(c) * 1024 + local)
                }
                #expect(throws: DecodeError.self) { _ = try p.resolveStack(UInt32(c) * 1024 + chunk.nodeCount) }
            }
        }
        #expect(contents.partitions[0].locations == contents.partitions[1].locations)
        #expect(writeSymDB(contents) == bytes)
    }
}
