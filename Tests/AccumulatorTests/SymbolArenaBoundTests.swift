import Arena
import BinaryCoding
import Pprof
import Testing
import TestSupport
@testable import Accumulator

/// `SymbolPartitionBuilder.bytesToIngest` is the admission bound of a push's symbols: the
/// accumulator refuses a push whose bound does not fit, and `ColumnArena.allocate` traps on
/// overflow, so the bytes a push takes must never exceed it, whole or split into groups, in
/// a fresh partition, a warm one, or one re-taking its blocks after the arena's reset.
@Suite struct SymbolArenaBoundTests {
    /// Ingests pushes' symbols and stacks group by group, as `DatasetHead.ingest` does.
    final class Ingester {
        let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20)
        let decoder = PprofDecoder()
        var x = IngestScratch(labelBytesMax: 1 << 20)
        var requestLabels = LabelBuilder()

        init() {
            for (name, value) in [("__name__", "process_cpu"), ("service_name", "svc")] as [(ByteString, ByteString)] {
                name.bytes.withUnsafeBytes { n in value.bytes.withUnsafeBytes { v in requestLabels.append(name: n, value: v) } }
            }
        }

        /// The bound computed before the push and the arena bytes it took; nil for a push the
        /// accumulator refuses (split with a location without mapping).
        func push(_ stored: [UInt8], into b: inout SymbolPartitionBuilder, _ arena: ColumnArena) throws -> (bound: Int, taken: Int)? {
            let p = try decode(stored)
            let keys = SpecialLabelKeys(p)
            x.split.split(p, keys: keys, requestLabels: requestLabels)
            if !x.split.isWholeProfile, p.locations.contains(where: { $0.mappingIndex == LocationRecord.noMapping }) { return nil }
            let bound = b.bytesToIngest(p), before = arena.usedBytes
            x.beginPush(strings: max(p.strings.count, 1), mappings: p.mappings.count,
                        functions: p.functions.count, locations: p.locations.count)
            for g in 0 ..< x.split.groupCount {
                let start = Int(x.split.groupSampleStart[g])
                let samples = Array(x.split.groupSamples[start ..< start + Int(x.split.groupSampleCount[g])])
                if samples.isEmpty { continue }
                x.beginGroup()
                if x.split.isWholeProfile {
                    b.ingestWholeProfile(p, &x)
                } else {
                    b.ingestExportedGroup(p, samples: samples[...], keys, &x)
                }
                var ids = [UInt32](repeating: 0, count: samples.count)
                let map = x.locationMap.elements
                samples.withUnsafeBufferPointer { s in
                    ids.withUnsafeMutableBufferPointer { ids in
                        b.insertStacks(samples: s, starts: p.sampleLocationStarts, frames: p.sampleLocationIndices, map: map, ids: ids)
                    }
                }
            }
            return (bound, arena.usedBytes - before)
        }

        /// The decoded tables, valid until the next decode.
        func decode(_ stored: [UInt8]) throws -> PprofTables {
            try stored.withUnsafeBytes { raw in
                try decoder.decode(try inflater.inflate(raw))
                try decoder.resolveReferences()
            }
            return decoder.tables
        }
    }

    static let corpus = [
        "cpu-exemplars.pb.gz", "cpu_go_truncated_1.pb.gz", "dotnet.labels.pprof",
        "go.cpu.labels.pprof", "heap", "heap_delta", "invalid_utf8.pb.gz", "no_addr_no_line.pb.gz",
        "nodejs-wall.pb.gz", "profile_java", "profile_nodejs", "profile_python", "profile_ruby", "profile_rust",
        "profile_uncompressed", "pyspy-1.pb.gz", "single_group_with_optional_span_id.pb.gz",
    ]

    /// A corpus profile as pushed; those split by labels that have locations without mapping
    /// (refused as they are) with the sanitizer's stub mapping.
    static func corpusPush(_ file: String) throws -> [UInt8] {
        let stored = try corpusFile(file)
        guard ["dotnet.labels.pprof", "pyspy-1.pb.gz"].contains(file) else { return stored }
        return PprofEncoder.encode(try decodeProfile(stored).withStubMapping())
    }

    /// Split pushes (path d): groups by `pod`, with trace ids (every group revisits its
    /// strings), and with `profile_id` labels renamed to a "span_id" past the string table.
    static var splitPushes: [[UInt8]] {
        var renamed = ProfileSpec(types: [("alloc", "count"), ("alloc", "bytes")])
        for i in 0 ..< 40 {
            renamed.samples.append(([UInt64(i % 9 + 1), UInt64(i % 5 + 10)], [Int64(i + 1), 3],
                                    [("pod", ByteString("p\(i % 7)")), ("profile_id", ByteString("\(i % 3)102030405060708"))]))
        }
        return [
            SymbolMemoTests.spec(groups: 0 ..< SymbolMemoTests.groups, traces: false).encoded(),
            SymbolMemoTests.spec(groups: 0 ..< SymbolMemoTests.groups, traces: true).encoded(),
            renamed.encoded(),
        ]
    }

    /// Each profile into a fresh partition, again into the warm one, then after the arena's
    /// reset; and into an arena of exactly its bound (which must not trap).
    @Test(arguments: corpus)
    func eachCorpusProfileStaysWithinItsBound(_ file: String) throws {
        let stored = try Self.corpusPush(file)
        let ingester = Ingester()
        let arena = ColumnArena(capacityBytes: 256 << 20)
        var builder = SymbolPartitionBuilder(in: arena)
        for round in 0 ..< 3 {
            if round == 2 {
                arena.reset()
                builder.reset()
            }
            let (bound, taken) = try #require(try ingester.push(stored, into: &builder, arena))
            #expect(taken <= bound, "\(file) round \(round): took \(taken), bound \(bound)")
            if round == 0 { #expect(taken > 0) }
        }

        // A new builder's stack tree takes its first blocks when made.
        let probe = ColumnArena(capacityBytes: 1 << 20)
        let made = SymbolPartitionBuilder(in: probe), madeBytes = probe.usedBytes
        let bound = made.bytesToIngest(try ingester.decode(stored))
        let exact = ColumnArena(capacityBytes: madeBytes + bound)
        var fresh = SymbolPartitionBuilder(in: exact)
        let (_, taken) = try #require(try ingester.push(stored, into: &fresh, exact))
        #expect(taken <= bound && exact.capacityBytes == madeBytes + bound)
    }

    /// The corpus and the split pushes interleaved into one partition, across an arena reset:
    /// every push within its bound; then, for every fourth push, the same sequence replayed
    /// into an arena holding exactly what was used before it plus its bound.
    @Test func mixedPushesStayWithinTheirBounds() throws {
        let split = Self.splitPushes
        var pushes: [[UInt8]] = []
        for (i, file) in Self.corpus.enumerated() {
            pushes.append(try Self.corpusPush(file))
            pushes.append(split[i % split.count])
        }
        let ingester = Ingester()
        let arena = ColumnArena(capacityBytes: 256 << 20)
        var builder = SymbolPartitionBuilder(in: arena)
        var usedBefore: [Int] = [], bounds: [Int] = []
        let resetAt = pushes.count / 2
        for (k, stored) in pushes.enumerated() {
            if k == resetAt {
                arena.reset()
                builder.reset()
            }
            usedBefore.append(arena.usedBytes)
            let (bound, taken) = try #require(try ingester.push(stored, into: &builder, arena))
            bounds.append(bound)
            #expect(taken <= bound, "push \(k): took \(taken), bound \(bound)")
        }

        for k in stride(from: 1, to: resetAt, by: 4) {
            let exact = ColumnArena(capacityBytes: usedBefore[k] + bounds[k])
            var replay = SymbolPartitionBuilder(in: exact)
            for stored in pushes[...k] { _ = try ingester.push(stored, into: &replay, exact) }
            #expect(exact.usedBytes <= exact.capacityBytes && exact.capacityBytes == usedBefore[k] + bounds[k])
        }
    }

    /// `SlotIndex.bytesToInsert` is exact: the first table and each doubling.
    @Test func slotIndexGrowthBound() {
        let arena = ColumnArena(capacityBytes: 16 << 20)
        var index = SlotIndex(in: arena)
        var inserted = 0
        for n in [1, 30, 31, 500, 10000] {
            let bound = index.bytesToInsert(n), before = arena.usedBytes
            for k in inserted ..< inserted + n {
                let h = UInt64(k) &* 0x9E37_79B9_7F4A_7C15
                var slot = index.firstSlot(h)
                while index.entry(at: slot) >= 0 { slot = index.nextSlot(slot) }
                index.insert(k, hash: h, at: slot)
            }
            inserted += n
            #expect(arena.usedBytes - before == bound, "after \(inserted)")
        }
    }
}
