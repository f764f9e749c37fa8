import Arena
import BinaryCoding
import Foundation
import Pprof
import SymbolDB
import Arena
import Testing
import TestSupport
@testable import Accumulator

/// symdb.md §11 check 5: the head's symbol ingestion, fed each corpus profile raw (no split,
/// one whole-profile ingest into a fresh partition 0, every sample's stack in order), must
/// write the upstream bytes. This pins string blanking, the four dedup tables, id
/// assignment and stack-node creation order.
@Suite struct SymbolVectorTests {
    static let expected: [String: (bytes: Int, sha256Prefix: String)] = [
        "cpu-exemplars.pb.gz": (2256, "34f671b8ebb0946a"),
        "cpu_go_truncated_1.pb.gz": (122_174, "b2deb4b23e207982"),
        "dotnet.labels.pprof": (4797, "81591b5817cf31ae"),
        "heap_delta": (24765, "ba87302180a05fe8"),
        "no_addr_no_line.pb.gz": (2145, "310474c054def984"),
        "nodejs-wall.pb.gz": (6946, "6f55f7cf4f18f9ac"),
        "profile_java": (8828, "4a2035815fda19bb"),
        "profile_nodejs": (6884, "a8c492991f5a720c"),
        "profile_python": (13180, "7326cfa024982605"),
        "profile_rust": (10591, "1463aa0509f12513"),
        "profile_uncompressed": (20710, "451aba8eccda00f0"),
        "pyspy-1.pb.gz": (664, "fa41e3ffb2cf7c23"),
        "single_group_with_optional_span_id.pb.gz": (7599, "dc1efe6c142ad6a1"),
    ]

    static func rawPartition(_ files: [String]) throws -> SymbolPartitionColumns {
        var builder = SymbolPartitionBuilder(in: ColumnArena(capacityBytes: 1 << 30))
        var x = IngestScratch(labelBytesMax: 1 << 20)
        let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20)
        let decoder = PprofDecoder()
        for file in files {
            let stored = try corpusFile(file)
            try stored.withUnsafeBytes { raw in
                try decoder.decode(try inflater.inflate(raw))
                try decoder.resolveReferences()
            }
            let p = decoder.tables
            x.beginPush(strings: max(p.strings.count, 1), mappings: p.mappings.count,
                        functions: p.functions.count, locations: p.locations.count)
            x.beginGroup()
            builder.ingestWholeProfile(p, &x)
            let samples = (0 ..< Int32(p.sampleCount)).map { $0 }
            var ids = [UInt32](repeating: 0, count: samples.count)
            let map = x.locationMap.elements
            samples.withUnsafeBufferPointer { samples in
                ids.withUnsafeMutableBufferPointer { ids in
                    builder.insertStacks(samples: samples, starts: p.sampleLocationStarts, frames: p.sampleLocationIndices,
                                         map: map, ids: ids)
                }
            }
        }
        return builder.partitionColumns()
    }

    static func sha256Hex(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("acc-symdb-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [url.path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data.prefix(64), as: UTF8.self)
    }

    static func written(_ p: SymbolPartitionColumns) -> [UInt8] {
        var w = ByteWriter()
        SymbolDBWriter.write([p], into: &w)
        return w.bytes
    }

    @Test(arguments: expected.keys.sorted())
    func rawIngestionWritesUpstreamBytes(_ file: String) throws {
        let want = try #require(Self.expected[file])
        let bytes = Self.written(try Self.rawPartition([file]))
        #expect(bytes.count == want.bytes)
        #expect(try Self.sha256Hex(bytes).hasPrefix(want.sha256Prefix))
    }

    @Test func crossProfileDedupWritesUpstreamBytes() throws {
        let p = try Self.rawPartition(["cpu-exemplars.pb.gz", "heap", "profile_java", "go.cpu.labels.pprof", "profile_ruby",
                                       "heap_delta", "profile_python", "nodejs-wall.pb.gz", "profile_rust", "cpu-exemplars.pb.gz"])
        let counts: [Int] = [Int(p.stackChunks[0].stacktraces), p.stackParents.count, p.locationCount, p.mappings.count,
                             p.functions.count, p.stringCount]
        #expect(counts == [7886, 22641, 6764, 7, 4167, 5129])
        let bytes = Self.written(p)
        #expect(bytes.count == 426_802)
        #expect(try Self.sha256Hex(bytes).hasPrefix("b9276850a3a98b52"))
    }
}
