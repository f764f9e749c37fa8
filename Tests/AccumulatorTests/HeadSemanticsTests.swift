import TestSupport
import BinaryCoding
import Pprof
import ProfilesParquet
import SegmentObject
import SymbolDB
import Testing
import TSDBIndex
@testable import Accumulator

/// A small hand-built profile: location i has one line calling function i, named "f<i>".
struct ProfileSpec {
    var types: [(ByteString, ByteString)] = [("cpu", "nanoseconds")]
    var period: (ByteString, ByteString)? = ("cpu", "nanoseconds")
    var samples: [(locations: [UInt64], values: [Int64], labels: [(ByteString, ByteString)])] = []
    var timeNanos: Int64 = 1_700_000_000_000_000_000
    var hasFunctions = true
    var dropFrames: ByteString?
    var comments: [ByteString] = []
    var defaultSampleType: Int64 = 0

    func encoded() -> [UInt8] {
        var p = PprofProfile()
        p.sampleTypes = types.map { ValueTypeRef(type: p.intern($0.0), unit: p.intern($0.1)) }
        if let period { p.periodType = ValueTypeRef(type: p.intern(period.0), unit: p.intern(period.1)) }
        var m = MappingRecord()
        m.id = 1
        m.hasFunctions = hasFunctions
        p.mappings = [m]
        let maxLocation = samples.flatMap(\.locations).max() ?? 0
        for i in 0 ..< Int(maxLocation) {
            var f = FunctionRecord()
            f.id = UInt64(i + 1)
            f.name = p.intern(ByteString("f\(i + 1)"))
            p.functions.append(f)
            p.locations.append(.init(id: UInt64(i + 1), mappingID: 1, lines: [LineRecord(functionID: UInt64(i + 1), line: 1)]))
        }
        for s in samples {
            let labels = s.labels.map { SampleLabel(key: p.intern($0.0), str: p.intern($0.1)) }
            p.samples.append(.init(locationIDs: s.locations, values: s.values, labels: labels))
        }
        p.timeNanos = timeNanos
        if let dropFrames { p.dropFrames = p.intern(dropFrames) }
        p.comments = comments.map { p.intern($0) }
        p.defaultSampleType = defaultSampleType
        return PprofEncoder.encode(p)
    }
}

/// What one dataset of a flushed object holds, read back with the project's readers.
struct ReadDataset {
    var layout: DatasetLayout
    var index: TSDBIndexContents
    var columns: ProfileColumns
    var symbols: SymbolPartition

    func labels(_ series: Int) -> [String] { index.series[series].labels.map { "\($0.name)=\($0.value)" } }
}

func readDatasets(_ object: [UInt8]) throws -> [ReadDataset] {
    try object.withUnsafeBytes { raw in
        let layout = try SegmentObjectReader.open(raw)
        return try layout.datasets.filter { $0.format == .services }.map { ds in
            let slice = { (kind: SectionKind) in UnsafeRawBufferPointer(rebasing: raw[ds.section(kind)!.range]) }
            return ReadDataset(layout: ds, index: try TSDBIndexReader.read(slice(.index)),
                               columns: try ProfilesParquetReader.read(slice(.profiles)).columns,
                               symbols: try SymbolDBReader.read(slice(.symbols)).partitions[0])
        }
    }
}

@Suite struct HeadSemanticsTests {
    static let base: [(name: ByteString, value: ByteString)] = [("__name__", "process_cpu"), ("service_name", "svc")]

    func flushOne(_ pushes: [TestPush]) throws -> [ReadDataset] {
        let acc = ShardAccumulator()
        for p in pushes { try acc.ingest(p) }
        return try readDatasets(try #require(acc.flushObject()).bytes)
    }

    /// profiles-parquet.md §10 check 5: the §9 label set in enforced order hashes to 9407695162538685562.
    @Test func seriesLabelsAndFingerprintMatchWorkedExample() throws {
        let labels: [(name: ByteString, value: ByteString)] = [
            ("__name__", "memory"), ("app_kubernetes_io_instance", "pyroscope-dev"), ("app_kubernetes_io_name", "alloy"),
            ("apps_kubernetes_io_pod_index", "0"), ("container", "alloy"),
            ("controller_revision_hash", "pyroscope-dev-alloy-6795dc78db"), ("instance", "192.168.194.17:12345"),
            ("namespace", "pyroscope-test"), ("pod", "pyroscope-dev-alloy-0"), ("service_name", "pyroscope-test/alloy"),
            ("statefulset_kubernetes_io_pod_name", "pyroscope-dev-alloy-0"), ("__delta__", "false"),
        ]
        let spec = ProfileSpec(types: [("inuse_objects", "count")], period: ("space", "bytes"), samples: [([1, 2], [5], [])])
        let ds = try flushOne([TestPush(tenant: "t", labels: labels, profile: spec.encoded(), id: profileID(1))])
        let series = try #require(ds.first?.index.series.first)
        #expect(series.fingerprint == 9_407_695_162_538_685_562)
        #expect(Array(series.labels.prefix(7).map(\.name.description)) == [
            "__profile_type__", "__service_name__", "__name__", "__period_type__", "__period_unit__", "__type__", "__unit__",
        ])
        #expect(series.labels[0].value == "memory:inuse_objects:count:space:bytes")
        #expect(!series.labels.contains { $0.name == "__delta__" })
    }

    /// §2.2 d: request labels win, an empty request label counts as absent, groups with equal
    /// resulting label sets merge and same-stack samples sum.
    @Test func splitBySampleLabelsMergesEqualLabelSets() throws {
        var labels = Self.base
        labels.append(("env", ""))
        let spec = ProfileSpec(samples: [
            ([1, 2], [10], [("pod", "a"), ("service_name", "other")]),
            ([1, 2], [5], [("pod", "a")]),
            ([3], [7], [("pod", "b"), ("env", "dev")]),
        ])
        let ds = try #require(try flushOne([TestPush(tenant: "t", labels: labels, profile: spec.encoded(), id: profileID(1))]).first)
        #expect(ds.index.series.count == 2)
        // CompareLabelPairs: `env` sorts before `pod` at the first differing pair.
        #expect(ds.labels(0).contains("pod=b") && ds.labels(0).contains("env=dev"))
        #expect(ds.labels(1).contains("pod=a") && ds.labels(1).contains("service_name=svc"))
        // The two pod=a samples share a stack: merged into one entry of 15.
        #expect(ds.columns.sampleOffsets == [0, 1, 2])
        #expect(ds.columns.sampleValues == [7, 15])
        #expect(ds.columns.totalValue == [7, 15])
    }

    /// §2.3 step 5: zero values removed, no row (and no series) for a type without values.
    @Test func zeroValuesAndEmptyTypesProduceNothing() throws {
        let spec = ProfileSpec(types: [("samples", "count"), ("cpu", "nanoseconds")],
                               samples: [([1], [3, 0], []), ([2], [0, 0], []), ([1, 2], [4, 0], [])])
        let ds = try #require(try flushOne([TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(1))]).first)
        #expect(ds.index.series.count == 1)
        #expect(ds.columns.rowCount == 1)
        #expect(ds.columns.sampleValues.sorted() == [3, 4])
        #expect(ds.layout.profileTypes == ["process_cpu:samples:count:cpu:nanoseconds"])
        // Stacks of zero-valued samples are still inserted (symdb.md §3.4): 3 distinct stacks.
        #expect(ds.symbols.stacktraceCount == 3)
    }

    /// §2.6: rows of a series by TimeNanos, equal times in arrival order; series min/max time.
    @Test func rowsAreOrderedByTimeThenArrival() throws {
        var pushes: [TestPush] = []
        for (i, t) in [Int64(30), 10, 30, 20].enumerated() {
            var spec = ProfileSpec(samples: [([1], [Int64(i + 1)], [])])
            spec.timeNanos = t * 1_000_000
            pushes.append(TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(UInt8(i))))
        }
        let ds = try #require(try flushOne(pushes).first)
        #expect(ds.columns.timeNanos == [10, 20, 30, 30].map { $0 * 1_000_000 })
        #expect(ds.columns.totalValue == [2, 4, 1, 3])
        #expect(ds.index.series[0].chunks[0].minTime == 10_000_000 && ds.index.series[0].chunks[0].maxTime == 30_000_000)
        #expect(ds.layout.minTimeMs == 10 && ds.layout.maxTimeMs == 30)
    }

    /// §2.5: span ids from 16 hex chars read little-endian, trace ids from 32 hex chars,
    /// `profile_id` renamed to `span_id`; spans switch on for the whole row.
    @Test func spanAndTraceIDsAreDecoded() throws {
        let spec = ProfileSpec(samples: [
            ([1], [1], [("profile_id", "0102030405060708")]),
            ([2], [2], [("trace_id", "000102030405060708090a0b0c0d0e0f")]),
            ([3], [3], [("span_id", "zz")]),
        ])
        let ds = try #require(try flushOne([TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(1))]).first)
        let c = ds.columns
        #expect(c.rowHasSpanIDs == [true])
        #expect(c.rowCount == 1 && c.sampleCount == 3)
        let byValue = Dictionary(uniqueKeysWithValues: (0 ..< 3).map { (c.sampleValues[$0], $0) })
        #expect(c.sampleSpanIDs[byValue[1]!] == 0x0807_0605_0403_0201)
        #expect(c.sampleSpanIDs[byValue[3]!] == 0)
        #expect(c.sampleTraceIDs[byValue[2]!] == UInt128(0x0001_0203_0405_0607) << 64 | UInt128(0x0809_0A0B_0C0D_0E0F))
        #expect(c.sampleTraceIDs[byValue[1]!] == 0)
    }

    /// A row without span or trace ids leaves those arena columns unwritten: a later segment
    /// reusing slots an earlier one filled with ids must still write none, byte for byte as a
    /// fresh shard does, and a row with ids beside it keeps its own.
    @Test func earlierSegmentsIDsDoNotLeakIntoRowsWithout() throws {
        let withIDs = ProfileSpec(samples: (1 ... 40).map { n in
            ([UInt64(n)], [Int64(n)], [("span_id", "0102030405060708"), ("trace_id", "000102030405060708090a0b0c0d0e0f")])
        })
        let without = ProfileSpec(samples: (1 ... 40).map { n in ([UInt64(n)], [Int64(n)], []) })
        let push = { (spec: ProfileSpec, n: UInt8) in TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(n)) }

        let reused = ShardAccumulator()
        try reused.ingest(push(withIDs, 1))
        _ = try #require(reused.flushObject())
        try reused.ingest(push(without, 2))
        let fresh = ShardAccumulator()
        try fresh.ingest(push(without, 2))
        let reusedObject = try #require(reused.flushObject())
        let freshObject = try #require(fresh.flushObject())
        #expect(reusedObject.bytes.elementsEqual(freshObject.bytes), "the reused shard's object differs from a fresh one's")

        try reused.ingest(push(withIDs, 3))
        _ = try #require(reused.flushObject())
        try reused.ingest(push(without, 4))
        try reused.ingest(push(withIDs, 5))
        let last = try #require(reused.flushObject())
        let ds = try #require(try readDatasets(last.bytes).first)
        let c = ds.columns
        #expect(c.rowCount == 2 && Set(c.rowHasSpanIDs) == [false, true])
        for r in 0 ..< c.rowCount {
            let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
            let traced = samples.filter { c.sampleTraceIDs[$0] != 0 }.count
            #expect(traced == (c.rowHasSpanIDs[r] ? 40 : 0))
            if c.rowHasSpanIDs[r] { #expect(samples.allSatisfy { c.sampleSpanIDs[$0] == 0x0807_0605_0403_0201 }) }
        }
    }

    /// §2.3 step 5: annotations of a push on every row it produced; ID shared by them.
    @Test func annotationsAndIDAreOnEveryRowOfAPush() throws {
        let spec = ProfileSpec(types: [("a", "count"), ("b", "count")], samples: [([1], [1, 2], [("pod", "x")]), ([2], [3, 4], [("pod", "y")])])
        let push = TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(9),
                            annotations: [("pyroscope.ingest.throttled", "{}"), ("k", "v")])
        let ds = try #require(try flushOne([push]).first)
        #expect(ds.columns.rowCount == 4)
        #expect(ds.columns.annotationOffsets == [0, 2, 4, 6, 8])
        #expect(ds.columns.annotationKeys == Array(repeating: ["pyroscope.ingest.throttled", "k"], count: 4).flatMap { $0 })
        let id = profileID(9).reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        #expect(ds.columns.ids == Array(repeating: id, count: 4))
    }

    /// segment-object.md §6.2: one label set per profile type (sorted), then `__unsymbolized__`.
    @Test func datasetLabelsNameProfileTypesAndUnsymbolized() throws {
        var spec = ProfileSpec(types: [("wall", "nanoseconds"), ("cpu", "nanoseconds")], samples: [([1], [1, 1], [])])
        spec.hasFunctions = false
        let ds = try #require(try flushOne([TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(1))]).first)
        #expect(ds.layout.labelSets.map { $0.map { "\($0.name)=\($0.value)" } } == [
            ["service_name=svc", "__profile_type__=process_cpu:cpu:nanoseconds:cpu:nanoseconds"],
            ["service_name=svc", "__profile_type__=process_cpu:wall:nanoseconds:cpu:nanoseconds"],
            ["service_name=svc", "__unsymbolized__=true"],
        ])
    }

    /// segment-object.md §10: pushes without any non-zero value still produce an object,
    /// with zero datasets; no push at all produces nothing.
    @Test func pushesWithoutValuesYieldAnEmptyObject() throws {
        let acc = ShardAccumulator()
        #expect(acc.flushObject() == nil)
        let spec = ProfileSpec(samples: [([1], [0], [])])
        try acc.ingest(TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(1)))
        let (meta, _) = try #require(acc.flushObject())
        #expect(meta.datasets.isEmpty)
    }

    /// Reset keeps capacity, not data: a reused accumulator writes the same bytes as a new one.
    @Test func reusedAccumulatorMatchesAFreshOne() throws {
        let pushes = try ["profile_rust", "cpu-exemplars.pb.gz"].enumerated().map {
            TestPush(tenant: "t", labels: Self.base, profile: try corpusFile($0.element), id: profileID(UInt8($0.offset)))
        }
        let reused = ShardAccumulator()
        try reused.ingest(TestPush(tenant: "x", labels: Self.base, profile: try corpusFile("heap_delta"), id: profileID(7)))
        try reused.ingest(pushes[1])
        _ = reused.flushObject()
        let fresh = ShardAccumulator()
        for p in pushes {
            try reused.ingest(p)
            try fresh.ingest(p)
        }
        let reusedObject = try #require(reused.flushObject())
        let freshObject = try #require(fresh.flushObject())
        #expect(reusedObject.bytes.elementsEqual(freshObject.bytes), "the reused shard's object differs from a fresh one's")
    }

    /// Many label groups stay linear and fold like the reference.
    @Test func thousandsOfLabelGroups() throws {
        var spec = ProfileSpec(types: [("alloc", "count"), ("alloc", "bytes")])
        for i in 0 ..< 3000 {
            spec.samples.append(([UInt64(i % 7 + 1), 8], [Int64(i % 5), Int64(i)], [("pod", ByteString("p\(i % 1000)"))]))
        }
        let push = TestPush(tenant: "t", labels: Self.base, profile: spec.encoded(), id: profileID(1))
        let acc = ShardAccumulator()
        try acc.ingest(push)
        var expected = FoldedSums()
        try referenceFold(push, into: &expected)
        let object = try #require(acc.flushObject())
        #expect(try readBack(object.bytes) == expected)
        // alloc/count is zero for every sample of the 200 pods with k % 5 == 0: no series there.
        #expect(try readDatasets(object.bytes)[0].index.series.count == 1800)
    }

    /// §2.5: drop_frames and comments are stored as string indices of the ingested profile:
    /// the source table for a whole profile, the exporter's re-indexed table for a split group
    /// (§2.2 e: sample types first, then drop_frames, keep_frames, comments).
    @Test func dropFramesAndCommentsFollowTheIngestedStringTable() throws {
        var whole = ProfileSpec(samples: [([1], [1], [])])
        whole.dropFrames = "runtime\\..*"
        whole.comments = ["first", "second"]
        let c = try #require(try flushOne([TestPush(tenant: "t", labels: Self.base, profile: whole.encoded(), id: profileID(1))]).first).columns
        // Source table: "", cpu, nanoseconds, f1, runtime..*, first, second.
        #expect(c.dropFrames == [4] && c.comments == [5, 6])

        var split = whole
        split.samples = [([1], [1], [("pod", "a")]), ([1], [2], [("pod", "b")])]
        let s = try #require(try flushOne([TestPush(tenant: "t", labels: Self.base, profile: split.encoded(), id: profileID(1))]).first).columns
        // Exported table: "", cpu, nanoseconds, runtime..*, first, second, …
        #expect(s.rowCount == 2 && s.dropFrames == [3, 3] && s.comments == [4, 5, 4, 5])
    }
}

@Suite struct PushDecoderEntryTests {
    /// A push decoded by the connection's `PushDecoder` ingests like one the accumulator decodes.
    @Test func preDecodedPushMatchesSelfDecoded() throws {
        let push = TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: try corpusFile("profile_python"), id: profileID(4))
        let a = ShardAccumulator()
        try a.ingest(push)
        let b = ShardAccumulator()
        let pushDecoder = PushDecoder()
        let message = push.message.encode()
        try message.withUnsafeBytes { raw in
            let view = try pushDecoder.decode(raw)
            try b.ingest(view, profile: pushDecoder.profile)
        }
        #expect(try #require(a.flushObject()).bytes == (try #require(b.flushObject())).bytes)
    }
}

@Suite struct StableSortTests {
    /// Exhaustive small cases plus random large ones: equal to the standard library's stable
    /// sort on (key, position).
    @Test func matchesAStableReferenceSort() {
        var rng = SplitMix64(seed: 42)
        for n in Array(0 ..< 40) + [100, 1000, 4097] {
            for _ in 0 ..< 3 {
                let keys = (0 ..< n).map { _ in rng.next() % 7 }
                var tagged = keys.enumerated().map { UInt64($0.element) << 32 | UInt64($0.offset) }
                var byKey = tagged
                // A buffer longer than the elements, as a scratch column's may be.
                var buffer = [UInt64](repeating: 0, count: n + 3)
                byKey.withUnsafeMutableBufferPointer { a in
                    buffer.withUnsafeMutableBufferPointer { b in StableSort.sort(a, buffer: b) { ($0 >> 32) < ($1 >> 32) } }
                }
                tagged.sort()
                #expect(byKey == tagged, "n = \(n)")
            }
        }
    }

    /// The radix sort of (stack id, position) keys the head uses: equal to a full sort,
    /// for ids of one, two and three 11-bit digits.
    @Test func radixSortByHighWordMatchesSort() {
        var rng = SplitMix64(seed: 7)
        var tagged = ScratchColumn<UInt64>(), buffer = ScratchColumn<UInt64>(), counts = ScratchColumn<Int>()
        for n in Array(0 ..< 40) + [100, 1000, 4097] {
            for range: UInt64 in [1, 7, 3000, 5_000_000, 1 << 32] {
                tagged.removeAll()
                for k in 0 ..< n { tagged.append(UInt64(k) | (rng.next() % range) << 32) }
                let expected = Array(tagged.elements).sorted()
                StableSort.sortByHighWord(&tagged, buffer: &buffer, counts: &counts)
                #expect(Array(tagged.elements) == expected, "n = \(n), range = \(range)")
            }
        }
    }
}

@Suite struct MemoryAccountingTests {
    /// `accumulatedBytes` grows with every push that stores something and returns to 0
    /// after a flush, as do the push and dataset counts.
    @Test func accumulatedBytesTracksPushesAndResets() throws {
        let acc = ShardAccumulator()
        #expect(acc.accumulatedBytes == 0)
        var last = 0
        for (i, file) in ["profile_rust", "heap_delta", "profile_python"].enumerated() {
            try acc.ingest(TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: try corpusFile(file), id: profileID(UInt8(i))))
            #expect(acc.accumulatedBytes > last)
            last = acc.accumulatedBytes
        }
        #expect(acc.pushCount == 3 && acc.datasetCount == 1)
        _ = acc.flushObject()
        #expect(acc.accumulatedBytes == 0 && acc.pushCount == 0 && acc.datasetCount == 0)
    }
}

extension MemoryAccountingTests {
    /// Flush resets the columns without freeing them: the symbol columns start the next
    /// segment with the room the last one needed (no more than they held), so a second
    /// segment with the same pushes grows nothing and takes nothing more from the arena.
    @Test func secondSegmentReusesCapacity() throws {
        let pushes = try ["profile_ruby", "cpu-exemplars.pb.gz"].enumerated().map {
            TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: try corpusFile($0.element), id: profileID(UInt8($0.offset)))
        }
        let acc = ShardAccumulator()
        for p in pushes { try acc.ingest(p) }
        let first = acc.reservedBytes
        _ = acc.flushObject()
        let kept = acc.reservedBytes, arenaKept = acc.columns.usedBytes
        #expect(kept <= first && arenaKept > 0)
        for p in pushes { try acc.ingest(p) }
        #expect(acc.reservedBytes == kept)
        #expect(acc.columns.usedBytes == arenaKept)
    }
}

extension MemoryAccountingTests {
    /// A row without span or trace ids leaves those columns of its run unwritten and is
    /// accounted 12 bytes a sample; a row with them 36, and the id columns count as resident
    /// up to its run's end.
    @Test func onlyRowsWithIDsAccountTheIDColumns() throws {
        let acc = ShardAccumulator(limits: AccumulatorLimits(accumulatedBytesMax: 64 << 20))
        try acc.ingest(TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: try corpusFile("profile_ruby"), id: profileID(1)))
        let plain = acc.samples.count
        #expect(plain > 0 && acc.samples.idEnd == 0)
        let plainBytes = acc.accumulatedBytes
        try acc.ingest(TestPush(tenant: "u", labels: HeadSemanticsTests.base,
                                profile: try corpusFile("single_group_with_optional_span_id.pb.gz"), id: profileID(2)))
        let withIDs = acc.samples.count - plain
        #expect(withIDs > 0 && acc.samples.idEnd == acc.samples.count)
        #expect(acc.accumulatedBytes - plainBytes > withIDs * SampleArena.bytesPerSample)
        let total = acc.samples.count
        _ = acc.flushObject()
        #expect(acc.samples.committedBytes == total * SampleArena.valueBytesPerSample + total * SampleArena.idBytesPerSample)

        // The next segment without ids keeps what is resident, and writes no id column.
        try acc.ingest(TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: try corpusFile("profile_ruby"), id: profileID(3)))
        #expect(acc.samples.idEnd == 0)
        #expect(acc.samples.committedBytes == total * SampleArena.bytesPerSample)
    }

    /// Every dataset of a shard writes its samples into the shard's one arena, reserved at
    /// start-up: a later segment whose samples belong to another dataset reuses the pages the
    /// first committed, and the arena commits no more than its largest segment needed.
    @Test func datasetsShareTheSampleArenaAcrossSegments() throws {
        let profile = try corpusFile("profile_ruby")
        let acc = ShardAccumulator(limits: AccumulatorLimits(accumulatedBytesMax: 64 << 20))
        #expect(acc.samples.capacity == (64 << 20) / 36)
        #expect(acc.samples.committedBytes == 0)
        try acc.ingest(TestPush(tenant: "t", labels: [("__name__", "cpu"), ("service_name", "a")], profile: profile, id: profileID(1)))
        let segment = acc.samples.count
        #expect(segment > 0)
        _ = acc.flushObject()
        #expect(acc.samples.count == 0 && acc.samples.committedBytes == segment * SampleArena.valueBytesPerSample)

        try acc.ingest(TestPush(tenant: "t", labels: [("__name__", "cpu"), ("service_name", "b")], profile: profile, id: profileID(2)))
        #expect(acc.samples.count == segment)
        #expect(acc.samples.committedBytes == segment * SampleArena.valueBytesPerSample)
        _ = acc.flushObject()
        try acc.ingest(TestPush(tenant: "t", labels: [("__name__", "cpu"), ("service_name", "b")], profile: profile, id: profileID(3)))
        try acc.ingest(TestPush(tenant: "u", labels: [("__name__", "cpu"), ("service_name", "b")], profile: profile, id: profileID(4)))
        #expect(acc.samples.committedBytes == 2 * segment * SampleArena.valueBytesPerSample)
    }
}
