import Arena
import BinaryCoding
import Pprof
import SegmentObject

/// The head of one shard: every push routed to the shard lands here until `flush()` turns
/// the accumulated datasets into one segment object (profiles-parquet.md §2, segment-object.md §10).
///
/// **Confinement.** Single-threaded by design: one shard is owned by one core's loop, which
/// is the only caller of `ingest` and `flush`. There are no locks; the class is not
/// `Sendable`. The inflater, decoder and scratch buffers (`IngestWorkspace`) are reused by
/// every push, and may be shared by the shards of one core.
///
/// **Atomicity.** A push is decoded, resolved, split and checked against the limits in
/// scratch memory first; only then is any dataset touched, and nothing after that point
/// can fail. A refused push therefore leaves the accumulator exactly as it was.
public final class ShardAccumulator {
    public let limits: AccumulatorLimits

    private let workspace: IngestWorkspace
    /// Every dataset's samples, in address space reserved when the shard is created
    /// (`AccumulatorLimits.samplesMax`).
    let samples: SampleArena
    /// The columns of every dataset's symbols and stack tree (issue #4). Interim sizing: generous address
    /// space, not yet checked at admission (`SymbolPartitionBuilder.bytesToIngest`).
    let columns: ColumnArena
    private var heads: [DatasetHead] = []
    /// XXH64 of (tenant ‖ 0xFF ‖ service) → head indices with that hash.
    private var headsByKey: [UInt64: [Int]] = [:]
    private var keyScratch: [UInt8] = []

    /// Datasets that received a push since the last flush.
    private var activeDatasets = 0
    /// Pushes accepted since the last flush (also the ones that produced no rows).
    public private(set) var pushCount = 0
    /// Bytes charged to accumulated data since the last flush (an estimate of the memory
    /// the columns hold, not of their reserved capacity).
    public private(set) var accumulatedBytes = 0

    /// `workspace`: shared with the other accumulators of the same core, or nil for one of its own.
    public convenience init(limits: AccumulatorLimits = AccumulatorLimits(), workspace: IngestWorkspace? = nil) {
        self.init(limits: limits, workspace: workspace, samples: SampleArena(capacity: limits.samplesMax))
    }

    /// `samples` must have been made for `limits.samplesMax` (tests hand in one whose
    /// reservation failed).
    init(limits: AccumulatorLimits, workspace: IngestWorkspace?, samples: SampleArena) {
        precondition(workspace.map { $0.profileBytesMax == limits.profileBytesMax } ?? true,
                     "a shared workspace must inflate to the accumulator's profileBytesMax")
        self.limits = limits
        self.workspace = workspace ?? IngestWorkspace(profileBytesMax: limits.profileBytesMax)
        self.samples = samples
        columns = ColumnArena(capacityBytes: max(1 << 30, 4 * limits.accumulatedBytesMax))
    }

    /// Datasets (tenant, service) that received a push since the last flush.
    public var datasetCount: Int { activeDatasets }

    /// Ingests one validated Push (`PushRequestView.init` checked tenant and profile id),
    /// inflating and decoding its profile with the workspace's decoder.
    public func ingest(_ push: PushRequestView) throws(PushError) {
        let pprof = try workspace.inflater.inflate(push.profile)
        do {
            try workspace.decoder.decode(pprof)
            try workspace.decoder.resolveReferences()
        } catch {
            throw PushError(error)
        }
        try ingest(push, profile: workspace.decoder)
    }

    /// Ingests a Push whose profile a `PushDecoder` already decoded (`profile` holds its
    /// columns; both views must stay valid for the call). References are resolved here if
    /// the caller has not (the head indexes the columns without further checks).
    public func ingest(_ push: PushRequestView, profile: PprofDecoder) throws(PushError) {
        if !profile.tables.referencesResolved {
            do { try profile.resolveReferences() } catch { throw PushError(error) }
        }
        let id = UInt128(push.profileIDHalves.high) << 64 | UInt128(push.profileIDHalves.low)
        workspace.scratch.requestLabels.reset()
        var service = UnsafeRawBufferPointer(start: nil, count: 0)
        var haveService = false
        for pair in push.labels {
            workspace.scratch.requestLabels.append(name: pair.name, value: pair.value)
            // The dataset is the value of the first `service_name` label (profiles-parquet.md §2.1).
            if !haveService, equalsStatic(pair.name, LabelNames.serviceName) {
                service = pair.value
                haveService = true
            }
        }
        workspace.scratch.annotations.reset()
        for pair in push.annotations { workspace.scratch.annotations.append(name: pair.name, value: pair.value) }
        try ingestDecoded(profile.tables, tenant: push.tenantID, service: service, id: id)
    }

    /// Everything after decoding: check in scratch, then commit.
    private func ingestDecoded(_ p: PprofTables, tenant: UnsafeRawBufferPointer, service: UnsafeRawBufferPointer,
                               id: UInt128) throws(PushError) {
        precondition(!tenant.isEmpty, "PushRequestView guarantees a tenant")
        precondition(p.referencesResolved, "the head reads resolved columns only")
        guard p.sampleCount <= limits.samplesPerProfileMax else {
            throw Self.exhausted("profile has \(p.sampleCount) samples, limit \(limits.samplesPerProfileMax)")
        }
        let keys = SpecialLabelKeys(p)
        workspace.scratch.split.split(p, keys: keys, requestLabels: workspace.scratch.requestLabels)
        try checkSplitReferences(p)

        let existing = findHead(tenant: tenant, service: service)
        try checkLimits(p, head: existing)

        // Commit: nothing below throws.
        let h = existing ?? createHead(tenant: tenant, service: service)
        let before = heads[h].accumulatedBytes
        if heads[h].pushCount == 0 { activeDatasets += 1 }
        heads[h].beginPush()
        workspace.scratch.beginPush(strings: max(p.strings.count, 1), mappings: p.mappings.count,
                                    functions: p.functions.count, locations: p.locations.count)
        for g in 0 ..< workspace.scratch.split.groupCount {
            heads[h].ingest(group: g, p, &workspace.scratch, keys: keys, id: id, arena: samples)
        }
        accumulatedBytes += heads[h].accumulatedBytes - before
        pushCount += 1
    }

    /// profiles-parquet.md §2.2 e: the exporter indexes source tables by `id - 1`, so a
    /// location without mapping in a split profile makes upstream panic (`UNKNOWN`).
    private func checkSplitReferences(_ p: PprofTables) throws(PushError) {
        guard !workspace.scratch.split.isWholeProfile,
              p.locations.contains(where: { $0.mappingIndex == LocationRecord.noMapping }) else { return }
        for l in p.sampleLocationIndices where p.locations[Int(l)].mappingIndex == LocationRecord.noMapping {
            throw PushError(.profileUndecodable,
                            "pprof: location \(l) has mapping_id 0 in a profile split by sample labels")
        }
    }

    private func checkLimits(_ p: PprofTables, head: Int?) throws(PushError) {
        if head.map({ heads[$0].pushCount == 0 }) ?? true, activeDatasets >= limits.datasetsMax {
            throw Self.exhausted("\(activeDatasets) datasets in this segment, limit \(limits.datasetsMax)")
        }
        let groups = workspace.scratch.split.groupCount
        let newSeriesMax = groups * p.typeCount
        let seriesNow = head.map { heads[$0].seriesCount } ?? 0
        if seriesNow + newSeriesMax > limits.seriesPerDatasetMax {
            throw Self.exhausted("dataset may reach \(seriesNow + newSeriesMax) series, limit \(limits.seriesPerDatasetMax)")
        }
        for g in 0 ..< groups {
            // Derived labels add at most 6 (§2.4).
            let n = workspace.scratch.split.groupLabels.pairRange(workspace.scratch.split.labelSet(ofGroup: g)).count + 6
            if n > limits.labelsPerSeriesMax {
                throw Self.exhausted("series of \(n) labels, limit \(limits.labelsPerSeriesMax)")
            }
        }
        // Each sample lands at most once per (group, sample type) and belongs to one group.
        let newSamples = p.sampleCount * p.typeCount
        if newSamples > samples.remaining {
            if let error = samples.reservationError {
                throw Self.exhausted("no sample arena: reserving \(limits.samplesMax) samples of address space failed (errno \(error))")
            }
            throw Self.exhausted("shard holds \(samples.count) samples, push may add \(newSamples), limit \(samples.capacity)")
        }
        let growth = Self.growthBound(p, groups: groups, labelBytes: workspace.scratch.split.groupLabels.byteCount)
        if accumulatedBytes + growth > limits.accumulatedBytesMax {
            throw Self.exhausted("accumulator holds \(accumulatedBytes) bytes, push may add \(growth), limit \(limits.accumulatedBytesMax)")
        }
    }

    /// An upper bound of what one push can add to `accumulatedBytes` (same unit costs as
    /// `DatasetHead.accumulatedBytes`).
    static func growthBound(_ p: PprofTables, groups: Int, labelBytes: Int) -> Int {
        var stringBytes = 0
        for s in p.strings { stringBytes += Int(s.length) }
        let rows = groups * p.typeCount
        return stringBytes + p.strings.count * 16 + p.mappings.count * 112 + p.functions.count * 32
            + p.locations.count * 33 + p.lines.count * 8 + p.sampleLocationIDs.count * 25 + 25
            + p.sampleCount * p.typeCount * 36 + rows * (96 + 40 + 160 + labelBytes / max(groups, 1))
            + rows * p.comments.count * 8 + 64 * 1024
    }

    static func exhausted(_ message: String) -> PushError {
        PushError(.requestTooLarge, "accumulator limit exceeded: \(message)")
    }

    // MARK: Datasets

    private func datasetHash(_ tenant: UnsafeRawBufferPointer, _ service: UnsafeRawBufferPointer) -> UInt64 {
        keyScratch.removeAll(keepingCapacity: true)
        keyScratch.append(contentsOf: tenant)
        keyScratch.append(0xFF)
        keyScratch.append(contentsOf: service)
        return keyScratch.withUnsafeBytes { XXH64.hash($0) }
    }

    private func findHead(tenant: UnsafeRawBufferPointer, service: UnsafeRawBufferPointer) -> Int? {
        guard let candidates = headsByKey[datasetHash(tenant, service)] else { return nil }
        for h in candidates where heads[h].tenant.bytes.elementsEqual(tenant) && heads[h].service.bytes.elementsEqual(service) {
            return h
        }
        return nil
    }

    private func createHead(tenant: UnsafeRawBufferPointer, service: UnsafeRawBufferPointer) -> Int {
        let h = heads.count
        heads.append(DatasetHead(tenant: ByteString(tenant), service: ByteString(service), arena: columns))
        headsByKey[datasetHash(tenant, service), default: []].append(h)
        return h
    }

    /// Datasets in flush order: (tenant, service) byte order (segment-object.md §3).
    var headsInFlushOrder: [Int] {
        heads.indices.sorted { a, b in
            heads[a].tenant != heads[b].tenant ? heads[a].tenant < heads[b].tenant : heads[a].service < heads[b].service
        }
    }

    /// Capacity held by the heads' columns (kept across flushes for active datasets) and the
    /// sample arena's committed pages.
    var reservedBytes: Int { heads.reduce(samples.committedBytes) { $0 + $1.reservedBytes } }

    /// Forgets all accumulated data. Heads that received pushes keep their capacity for the
    /// next segment; heads idle for a whole segment are released, so the registry stays
    /// bounded by `datasetsMax`.
    func resetAfterFlush() {
        heads.removeAll { $0.pushCount == 0 }
        headsByKey.removeAll(keepingCapacity: true)
        columns.reset()
        for h in heads.indices {
            heads[h].reset()
            headsByKey[datasetHash(heads[h].tenant.bytes, heads[h].service.bytes), default: []].append(h)
        }
        samples.reset()
        activeDatasets = 0
        pushCount = 0
        accumulatedBytes = 0
    }

    private func datasetHash(_ tenant: [UInt8], _ service: [UInt8]) -> UInt64 {
        tenant.withUnsafeBytes { t in service.withUnsafeBytes { s in datasetHash(t, s) } }
    }
}

extension ShardAccumulator {
    /// Writes the segment object of everything pushed since the last flush into `w` (which
    /// must be empty: TOC offsets are absolute), then resets the accumulator for the next
    /// segment. Returns the object's metadata (with `size`), or nil when no push arrived,
    /// in which case nothing is written (segment-object.md §10 step 2). Pushes that produced
    /// no rows still yield an object, with zero datasets.
    public func flush(segmentID: ULID, shard: UInt32, createdBy: ByteString, into w: inout ByteWriter) -> BlockMeta? {
        guard pushCount > 0 else { return nil }
        let datasets = headsInFlushOrder.compactMap { heads[$0].flushed(arena: samples) }
        let meta = SegmentAssembler.assemble(datasets, id: segmentID, shard: shard, hostname: createdBy, into: &w)
        resetAfterFlush()
        return meta
    }
}
