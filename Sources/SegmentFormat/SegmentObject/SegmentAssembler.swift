import BinaryCoding
import TSDBIndex

/// One (tenant, service) dataset of a segment, as the flush hands it to the assembler.
/// The three `write…` methods are each called once, in order, and append their section to
/// the shared object buffer (offsets inside a section relative to its start).
public protocol SegmentDatasetSource {
    var tenant: ByteString { get }
    /// The `service_name` of the dataset ("" is allowed: segment-object.md §13).
    var service: ByteString { get }
    /// Head time bounds (`Profile.time_nanos` of contributing profiles).
    var minTimeNanos: Int64 { get }
    var maxTimeNanos: Int64 { get }
    /// Profile type names of the dataset's series (any order).
    var profileTypes: [ByteString] { get }
    /// Whether any location's mapping lacks function info (§6.2).
    var hasUnsymbolizedProfiles: Bool { get }
    /// The series of the dataset's `index.tsdb`, in its order (labels and fingerprints;
    /// chunks are ignored), for the tenant's dataset index (§7).
    var indexSeriesColumns: IndexSeriesColumns { get }

    func writeProfiles(into w: inout ByteWriter)
    func writeIndex(into w: inout ByteWriter)
    func writeSymbols(into w: inout ByteWriter)
}

/// Builds a whole era-C segment object in one buffer (segment-object.md §3–§7, §10):
/// datasets in (tenant, service) byte order, each tenant's dataset index after its last
/// dataset, then the metadata trailer.
public enum SegmentAssembler {
    /// Writes the object into `w` (which must be empty: TOC offsets are absolute) and
    /// returns its metadata with `size` set, ready for AddBlock or the DLQ.
    /// `hostname` becomes `created_by` (index 0 when empty).
    public static func assemble<D: SegmentDatasetSource>(
        _ datasets: [D], id: ULID, shard: UInt32, hostname: ByteString, into w: inout ByteWriter
    ) -> BlockMeta {
        precondition(w.count == 0, "the object must start at offset 0 of the writer")
        var strings = StringTable()
        var meta = BlockMeta()
        meta.formatVersion = 1
        meta.id = id.byteString
        meta.shard = shard
        meta.createdBy = strings.put(hostname)
        meta.minTimeMs = .max
        meta.maxTimeMs = 0
        var tenant = TenantIndexBuilder()
        for i in fileOrder(datasets) {
            let d = datasets[i]
            if tenant.name != d.tenant {
                tenant.finish(into: &w, meta: &meta, strings: &strings)
                tenant = TenantIndexBuilder(name: d.tenant, firstPosition: meta.datasets.count)
            }
            tenant.add(position: meta.datasets.count, series: d.indexSeriesColumns)
            let ds = writeDataset(d, into: &w, strings: &strings)
            meta.minTimeMs = min(meta.minTimeMs, ds.minTimeMs)
            meta.maxTimeMs = max(meta.maxTimeMs, ds.maxTimeMs)
            meta.datasets.append(ds)
        }
        tenant.finish(into: &w, meta: &meta, strings: &strings)
        meta.stringTable = strings.strings
        return MetadataTrailer.append(meta, to: &w)
    }

    /// Indices of `datasets` in ascending (tenant, service) byte order; keys must be unique.
    static func fileOrder<D: SegmentDatasetSource>(_ datasets: [D]) -> [Int] {
        let order = datasets.indices.sorted { a, b in
            let (x, y) = (datasets[a], datasets[b])
            return x.tenant != y.tenant ? x.tenant < y.tenant : x.service < y.service
        }
        for (a, b) in zip(order, order.dropFirst()) {
            precondition(datasets[a].tenant != datasets[b].tenant || datasets[a].service != datasets[b].service,
                         "two datasets with the same (tenant, service)")
        }
        return order
    }

    /// Appends the three sections and describes them (§5.2 Format0, §6.1 interning order).
    static func writeDataset<D: SegmentDatasetSource>(_ d: D, into w: inout ByteWriter, strings: inout StringTable) -> DatasetMeta {
        let start = w.count
        d.writeProfiles(into: &w)
        let index = w.count
        d.writeIndex(into: &w)
        let symbols = w.count
        d.writeSymbols(into: &w)
        precondition(start <= index && index <= symbols && symbols <= w.count, "a section writer removed bytes")
        var ds = DatasetMeta()
        ds.tenant = strings.put(d.tenant)
        ds.name = strings.put(d.service)
        ds.minTimeMs = d.minTimeNanos / 1_000_000
        ds.maxTimeMs = d.maxTimeNanos / 1_000_000
        ds.tableOfContents = [UInt64(start), UInt64(index), UInt64(symbols)]
        ds.size = UInt64(w.count - start)
        let sets = DatasetLabels.serviceSets(service: d.service, profileTypes: d.profileTypes, unsymbolized: d.hasUnsymbolizedProfiles)
        ds.labels = DatasetLabels.encode(sets, into: &strings)
        return ds
    }
}

/// Collects one tenant's series and appends its Format1 dataset index (§7, `writeTenantDatasetIndex`).
struct TenantIndexBuilder {
    var name: ByteString?
    var firstPosition = 0
    var groups: [(position: UInt32, series: IndexSeriesColumns)] = []

    init() {}

    init(name: ByteString, firstPosition: Int) {
        self.name = name
        self.firstPosition = firstPosition
    }

    mutating func add(position: Int, series: IndexSeriesColumns) {
        groups.append((UInt32(position), series))
    }

    /// Appends the index and its dataset entry, unless the tenant has no series.
    func finish(into w: inout ByteWriter, meta: inout BlockMeta, strings: inout StringTable) {
        guard let name, groups.contains(where: { !$0.series.isEmpty }) else { return }
        let start = w.count
        DatasetIndexWriter.write(datasets: groups, into: &w)
        var ds = DatasetMeta()
        ds.format = DatasetFormat.tenantIndex.rawValue
        // Label strings are interned before the tenant, as upstream builds them first.
        ds.labels = DatasetLabels.encode(DatasetLabels.tenantIndexSets, into: &strings)
        ds.tenant = strings.put(name)
        ds.minTimeMs = meta.datasets[firstPosition...].reduce(Int64.max) { min($0, $1.minTimeMs) }
        ds.maxTimeMs = meta.datasets[firstPosition...].reduce(0) { max($0, $1.maxTimeMs) }
        ds.tableOfContents = [UInt64(start)]
        ds.size = UInt64(w.count - start)
        meta.datasets.append(ds)
    }
}
