import BinaryCoding
import ProfilesParquet
import SymbolDB
import TSDBIndex

/// Cross-section and metadata checks of a read object (segment-object.md §15).
/// Errors point at the start of the section whose contents disagree.
enum ContentChecks {
    static let nanosPerMs: Int64 = 1_000_000

    /// #12 and #9: block times span the Format0 datasets; level-0 datasets in (tenant, service) order.
    static func block(_ layout: SegmentObjectLayout, _ datasets: [DatasetContents]) throws(DecodeError) {
        let services = datasets.map(\.layout).filter { $0.format == .services }
        let minT = services.reduce(Int64.max) { min($0, $1.minTimeMs) }
        let maxT = services.reduce(0) { max($0, $1.maxTimeMs) }
        guard layout.meta.minTimeMs == minT, layout.meta.maxTimeMs == maxT else {
            throw DecodeError(.malformed, at: layout.dataEnd, "block times [\(layout.meta.minTimeMs), \(layout.meta.maxTimeMs)] are not the datasets' [\(minT), \(maxT)]")
                .inRegion("metadata")
        }
        guard layout.meta.compactionLevel == 0 else { return }
        for (a, b) in zip(services, services.dropFirst()) where !(a.tenant < b.tenant || (a.tenant == b.tenant && a.name < b.name)) {
            throw DecodeError(.malformed, at: b.range.lowerBound, "datasets not in ascending (tenant, service) order")
                .inRegion("dataset \(b.position)")
        }
    }

    /// #3 (TSDB bounds), #11, #12 for one service dataset, plus rows that refer to existing
    /// series and stacks.
    static func service(_ d: DatasetContents, compactionLevel: UInt32) throws(DecodeError) {
        let ds = d.layout
        let indexSection = ds.sections[1]
        func fail(_ s: Section, _ message: String) -> DecodeError {
            DecodeError(.malformed, at: s.range.lowerBound, message).inRegion(s.kind.rawValue).inRegion("dataset \(ds.position)")
        }
        // A dataset's latest time starts at 0 upstream, so profiles all before 1970 leave it 0.
        guard d.index.from / nanosPerMs == ds.minTimeMs, max(0, d.index.through / nanosPerMs) == ds.maxTimeMs else {
            throw fail(indexSection, "TSDB bounds [\(d.index.from), \(d.index.through)] ns disagree with dataset times [\(ds.minTimeMs), \(ds.maxTimeMs)] ms")
        }
        // A series' service_name is not checked against the dataset's name: the dataset is named
        // by the request's label, and when a duplicate empty pair deletes that label, a sample
        // label gives the series another one (as upstream's writer does too).
        var types = Set<ByteString>()
        for series in d.index.series {
            for label in series.labels where label.name == DatasetLabels.profileType { types.insert(label.value) }
        }
        if !ds.labelSets.isEmpty && ds.profileTypes != types.sorted() {
            throw fail(indexSection, "dataset labels name types \(ds.profileTypes) but the index has \(types.sorted())")
        }
        guard let table = d.profiles, let symbols = d.symbols else { return }
        // A segment writer's sets are exactly these (§6.2); compaction merges sets differently.
        if !ds.labelSets.isEmpty && compactionLevel == 0 {
            let expected = DatasetLabels.serviceSets(service: ds.name, profileTypes: Array(types), unsymbolized: hasUnsymbolized(symbols))
            guard ds.labelSets == expected else {
                throw fail(ds.sections[2], "dataset labels are not service_name × profile types (+ __unsymbolized__ iff a mapping lacks functions)")
            }
        }
        try rows(table.columns, seriesCount: d.index.series.count, symbols: symbols, ds)
    }

    /// `HasUnsymbolizedProfiles`: some location's mapping has no function information.
    static func hasUnsymbolized(_ symbols: SymbolDBContents) -> Bool {
        symbols.partitions.contains { p in
            p.locations.contains { Int($0.mappingID) >= p.mappings.count || !p.mappings[Int($0.mappingID)].hasFunctions }
        }
    }

    private static func rows(_ c: ProfileColumns, seriesCount: Int, symbols: SymbolDBContents, _ ds: DatasetLayout) throws(DecodeError) {
        let profiles = ds.sections[0]
        var stack: [UInt32] = []
        for r in 0 ..< c.rowCount {
            guard Int(c.seriesIndex[r]) < seriesCount else {
                throw DecodeError(.malformed, at: profiles.range.lowerBound, "row \(r): series index \(c.seriesIndex[r]) of \(seriesCount)")
                    .inRegion(profiles.kind.rawValue).inRegion("dataset \(ds.position)")
            }
            guard let partition = symbols.partitions.first(where: { $0.key == c.stacktracePartition[r] }) else {
                throw DecodeError(.malformed, at: profiles.range.lowerBound, "row \(r): no symdb partition \(c.stacktracePartition[r])")
                    .inRegion(profiles.kind.rawValue).inRegion("dataset \(ds.position)")
            }
            for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                let id = c.sampleStacktraceIDs[s]
                do throws(DecodeError) {
                    guard id <= UInt64(UInt32.max) else { throw DecodeError(.malformed, at: 0, "stack ID \(id) beyond 32 bits") }
                    try partition.resolveStack(UInt32(id), into: &stack)
                } catch {
                    throw DecodeError(.malformed, at: profiles.range.lowerBound, "row \(r) sample \(s - c.sampleOffsets[r]): \(error.message)")
                        .inRegion(profiles.kind.rawValue).inRegion("dataset \(ds.position)")
                }
            }
        }
    }

    /// #9, #10: a tenant index names exactly its tenant's service datasets, one zero chunk per
    /// series; at level 0 it follows the tenant's last dataset and repeats their series.
    static func tenantIndex(_ d: DatasetContents, of all: [DatasetContents], compactionLevel: UInt32) throws(DecodeError) {
        let ds = d.layout
        let section = ds.sections[0]
        func fail(_ message: String) -> DecodeError {
            DecodeError(.malformed, at: section.range.lowerBound, message).inRegion(section.kind.rawValue).inRegion("dataset \(ds.position)")
        }
        let own = all.filter { $0.layout.format == .services && $0.layout.tenant == ds.tenant }
        let positions = Set(own.map { UInt32($0.layout.position) })
        guard ds.labelSets == DatasetLabels.tenantIndexSets, ds.name.isEmpty else {
            throw fail("tenant index must be unnamed and labelled __tenant_dataset__=dataset_tsdb_index")
        }
        guard d.index.from == 0, d.index.through == 0 else { throw fail("tenant index bounds must be 0 and 0") }
        var seen = Set<UInt32>()
        for (i, series) in d.index.series.enumerated() {
            guard series.chunks.count == 1, let c = series.chunks.first, c.minTime == 0, c.maxTime == 0, c.kb == 0, c.checksum == 0 else {
                throw fail("series \(i): expected one chunk (0, 0, 0, position, 0)")
            }
            guard positions.contains(c.seriesIndex) else {
                throw fail("series \(i): position \(c.seriesIndex) is not a dataset of tenant \(ds.tenant)")
            }
            seen.insert(c.seriesIndex)
        }
        guard seen == positions else { throw fail("tenant index covers datasets \(seen.sorted()), tenant has \(positions.sorted())") }
        let minT = own.reduce(Int64.max) { min($0, $1.layout.minTimeMs) }
        let maxT = own.reduce(0) { max($0, $1.layout.maxTimeMs) }
        guard ds.minTimeMs == minT, ds.maxTimeMs == maxT else { throw fail("tenant index times are not its datasets' span") }
        guard compactionLevel == 0 else { return }
        guard let last = own.last, last.layout.position == ds.position - 1 else {
            throw fail("tenant index does not directly follow the tenant's last dataset")
        }
        let expected = own.flatMap { o in o.index.series.map { SeriesKey(labels: $0.labels, fingerprint: $0.fingerprint, position: UInt32(o.layout.position)) } }
        let actual = d.index.series.map { SeriesKey(labels: $0.labels, fingerprint: $0.fingerprint, position: $0.chunks[0].seriesIndex) }
        guard expected == actual else { throw fail("tenant index series are not its datasets' series in file order") }
    }

    private struct SeriesKey: Equatable {
        var labels: [SeriesLabel]
        var fingerprint: UInt64
        var position: UInt32
    }
}
