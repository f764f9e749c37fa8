import BinaryCoding
import Pprof
import SegmentObject
import TSDBIndex
import Testing
import TestSupport
@testable import Accumulator

/// Ingest → flush → read back with the project's readers, compared with a reference fold
/// computed straight from the decoded input (profiles-parquet.md §10 checks 3–7).
@Suite struct CorpusRoundTripTests {
    /// Raw corpus files that ingest as they are. `dotnet-pprof-3.pb.gz` references missing
    /// functions; `dotnet.labels.pprof` and `pyspy-1.pb.gz` are split by sample labels but
    /// have locations without mapping: they are refused raw (see `RejectionTests`) and the
    /// latter two are accepted as a distributor forwards them (stub mapping).
    static let rawFiles = [
        "cpu-exemplars.pb.gz", "cpu_go_truncated_1.pb.gz", "go.cpu.labels.pprof", "heap", "heap_delta",
        "invalid_utf8.pb.gz", "no_addr_no_line.pb.gz", "nodejs-wall.pb.gz", "profile_java", "profile_nodejs",
        "profile_python", "profile_ruby", "profile_rust", "profile_uncompressed",
        "single_group_with_optional_span_id.pb.gz",
    ]

    static let requestLabels: [(name: ByteString, value: ByteString)] = [
        ("__delta__", "false"), ("__name__", "process_cpu"), ("service_name", "svc"),
    ]

    @Test(arguments: rawFiles)
    func eachCorpusProfileRoundTrips(_ file: String) throws {
        let push = TestPush(tenant: "tenant-a", labels: Self.requestLabels, profile: try corpusFile(file), id: profileID(1))
        let acc = ShardAccumulator()
        try acc.ingest(push)
        var expected = FoldedSums()
        try referenceFold(push, into: &expected)
        let (meta, object) = try #require(acc.flushObject())
        let actual = try readBack(object)
        #expect(actual == expected, "\(file): \(Set(actual.keys).symmetricDifference(expected.keys).prefix(4).map(\.description))")
        #expect(meta.size == UInt64(object.count))
        // Flush resets: a second flush has nothing to write.
        #expect(acc.flushObject() == nil)
        #expect(acc.accumulatedBytes == 0)
    }

    /// Each profile as a Pyroscope distributor forwards it (`distributorNormalized`: the two
    /// labelled profiles with locations without mapping get the stub mapping and are taken)
    /// round-trips, and means what the raw profile meant (a Go profile's after upstream's Go
    /// fix, `goFixed`: truncated stacks repaired, type parameters dropped): the same sums per
    /// series and stack, except where normalization drops samples (`no_addr_no_line.pb.gz`'s
    /// through a location of neither lines nor address).
    @Test(arguments: rawFiles + ["dotnet.labels.pprof", "pyspy-1.pb.gz"])
    func eachProfileAsADistributorForwardsItRoundTrips(_ file: String) throws {
        let raw = TestPush(tenant: "t", labels: Self.requestLabels, profile: try corpusFile(file), id: profileID(2))
        var normalized = raw
        normalized.profile = PprofEncoder.encode(try decodeProfile(raw.profile).distributorNormalized())
        let acc = ShardAccumulator()
        try acc.ingest(normalized)
        var expected = FoldedSums()
        try referenceFold(normalized, into: &expected)
        let (_, object) = try #require(acc.flushObject())
        #expect(try readBack(object) == expected)
        guard Self.rawFiles.contains(file) else { return }
        var original = FoldedSums()
        var meant = raw
        if let decoded = try? decodeProfile(raw.profile), decoded.language == "go" { meant.profile = PprofEncoder.encode(decoded.goFixed()) }
        try referenceFold(meant, into: &original)
        if file == "no_addr_no_line.pb.gz" {
            #expect(expected.allSatisfy { original[$0.key] == $0.value } && expected.count < original.count)
        } else {
            #expect(expected == original, "\(file)")
        }
    }

    /// Several tenants, services and label sets in one segment, with repeats of the same
    /// series (values add up) and gzip and raw encodings mixed.
    @Test func mixOfTenantsServicesAndLabelSets() throws {
        let files = ["cpu-exemplars.pb.gz", "heap_delta", "profile_python", "go.cpu.labels.pprof", "nodejs-wall.pb.gz",
                     "single_group_with_optional_span_id.pb.gz", "profile_rust"]
        var pushes: [TestPush] = []
        for (i, file) in files.enumerated() {
            let bytes = try corpusFile(file)
            for tenant in ["tenant-b", "tenant-a"] {
                for service in ["api", "worker"] where (i + service.count) % 2 == 0 || tenant == "tenant-a" {
                    var labels: [(name: ByteString, value: ByteString)] = [("__name__", "mixed"), ("service_name", ByteString(service))]
                    if i % 3 == 0 { labels.append(("env", "prod")) }
                    if i % 2 == 0 { labels.append(("empty", "")) }
                    pushes.append(TestPush(tenant: ByteString(tenant), labels: labels, profile: bytes, id: profileID(UInt8(i)),
                                           annotations: [("pyroscope.ingest.sampled", "{\"body\":{}}")]))
                }
            }
        }
        pushes.append(pushes[0]) // the same profile again: same series, values double
        let acc = ShardAccumulator()
        var expected = FoldedSums()
        for p in pushes {
            try acc.ingest(p)
            try referenceFold(p, into: &expected)
        }
        let (meta, object) = try #require(acc.flushObject())
        #expect(try readBack(object) == expected)

        let layout = try object.withUnsafeBytes { try SegmentObjectReader.open($0) }
        let keys = layout.datasets.filter { $0.format == .services }.map { "\($0.tenant)/\($0.name)" }
        #expect(keys == ["tenant-a/api", "tenant-a/worker", "tenant-b/api", "tenant-b/worker"])
        // One tenant dataset index after each tenant's datasets (segment-object.md §3).
        #expect(layout.datasets.map(\.format) == [.services, .services, .tenantIndex, .services, .services, .tenantIndex])
        #expect(meta.datasets.count == 6)
        #expect(meta.shard == 1 && layout.createdBy == "test-host")

        // Each tenant index holds the tenant's series in dataset order, SeriesIndex = position (tsdb-index.md §8).
        try object.withUnsafeBytes { raw in
            var tenantSeries: [(labels: [SeriesLabel], position: UInt32)] = []
            for ds in layout.datasets {
                let slice = { (kind: SectionKind) in UnsafeRawBufferPointer(rebasing: raw[ds.section(kind)!.range]) }
                if ds.format == .services {
                    for s in try TSDBIndexReader.read(slice(.index)).series { tenantSeries.append((s.labels, UInt32(ds.position))) }
                } else {
                    let index = try TSDBIndexReader.read(slice(.datasetIndex))
                    #expect(index.series.map(\.labels) == tenantSeries.map(\.labels))
                    #expect(index.series.map { $0.chunks[0].seriesIndex } == tenantSeries.map(\.position))
                    tenantSeries = []
                }
            }
        }
    }
}

@Suite struct UnsymbolizedLabelTests {
    /// segment-object.md §6.2: every non-Go corpus file and `no_addr_no_line.pb.gz` carry
    /// `__unsymbolized__=true`; the Go files (all mappings with functions) do not.
    @Test(arguments: CorpusRoundTripTests.rawFiles)
    func unsymbolizedLabelFollowsMappings(_ file: String) throws {
        let goFiles: Set = ["cpu-exemplars.pb.gz", "cpu_go_truncated_1.pb.gz", "go.cpu.labels.pprof", "heap", "heap_delta",
                            "invalid_utf8.pb.gz", "profile_uncompressed", "single_group_with_optional_span_id.pb.gz"]
        let p = try decodeProfile(try corpusFile(file))
        let withFunctions = Set(p.mappings.filter(\.hasFunctions).map(\.id))
        #expect(p.locations.allSatisfy { withFunctions.contains($0.mappingID) } == goFiles.contains(file))
        let acc = ShardAccumulator()
        try acc.ingest(TestPush(tenant: "t", labels: CorpusRoundTripTests.requestLabels, profile: try corpusFile(file), id: profileID(1)))
        let object = try #require(acc.flushObject())
        let ds = try #require(try readDatasets(object.bytes).first)
        let unsymbolized = ds.layout.labelSets.contains { $0.contains { $0.name == "__unsymbolized__" && $0.value == "true" } }
        #expect(unsymbolized == !goFiles.contains(file))
    }
}
