import Arena
import BinaryCoding
import Pprof
import SegmentObject
import SymbolDB

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
    /// Every dataset's other columns (rows, series, symbols, stack trees), in address space
    /// reserved when the shard is created (`AccumulatorLimits.accumulatedBytesMax`).
    let columns: ColumnArena
    private var heads: [DatasetHead] = []
    /// A head that never receives data, in an arena of its own: a push for a dataset the
    /// shard does not hold yet is admitted by what it would take from this head, plus what
    /// making a head takes (`blankHeadBytes`).
    private let blankHead: DatasetHead
    private let blankHeadBytes: Int
    /// The arena bytes the last push checked was allowed to take (what it takes is at most that).
    private(set) var admittedArenaBytes = 0
    /// XXH64 of (tenant ‖ 0xFF ‖ service) → head indices with that hash.
    private var headsByKey: [UInt64: [Int]] = [:]
    private var keyScratch: [UInt8] = []

    /// Datasets that received a push since the last flush.
    private var activeDatasets = 0
    /// Pushes accepted since the last flush (also the ones that produced no rows).
    public private(set) var pushCount = 0
    /// Bytes of data accumulated since the last flush: the columns' elements and samples
    /// (what the segment is made of; the arenas' blocks are `reservedBytes`).
    public private(set) var accumulatedBytes = 0

    /// `workspace`: shared with the other accumulators of the same core, or nil for one of its own.
    public convenience init(limits: AccumulatorLimits = AccumulatorLimits(), workspace: IngestWorkspace? = nil) {
        self.init(limits: limits, workspace: workspace, samples: SampleArena(capacity: limits.samplesMax),
                  columns: ColumnArena(capacityBytes: limits.accumulatedBytesMax))
    }

    /// `samples` and `columns` must have been made for `limits.samplesMax` and
    /// `limits.accumulatedBytesMax` (tests hand in ones whose reservation failed).
    init(limits: AccumulatorLimits, workspace: IngestWorkspace?, samples: SampleArena, columns: ColumnArena) {
        precondition(workspace.map { $0.profileBytesMax == limits.profileBytesMax } ?? true,
                     "a shared workspace must inflate to the accumulator's profileBytesMax")
        self.limits = limits
        self.workspace = workspace ?? IngestWorkspace(profileBytesMax: limits.profileBytesMax)
        self.samples = samples
        self.columns = columns
        let blankArena = ColumnArena(capacityBytes: 1 << 20)
        blankHead = DatasetHead(tenant: "", service: "", arena: blankArena)
        blankHeadBytes = blankArena.usedBytes
    }

    /// True when the segment should be flushed before it is due: its data reached
    /// `segmentBytesMax`, or its columns took half of their arena (growth leaves blocks behind
    /// until the flush, so the arena fills faster than the data grows).
    public func shouldFlushEarly(segmentBytesMax: Int) -> Bool {
        accumulatedBytes >= segmentBytesMax || columns.usedBytes * 2 >= columns.capacityBytes
    }

    /// Datasets (tenant, service) that received a push since the last flush.
    public var datasetCount: Int { activeDatasets }

    /// Bytes of the shard's two arenas that its segments have used so far: the most the column
    /// arena handed out in one segment, and the sample arena's committed columns. The kernel
    /// committed at most these pages, and they stay so after a flush (memory the process holds
    /// for this shard, whatever the current segment holds).
    public var arenaCommittedBytes: Int { max(columns.highWaterBytes, columns.usedBytes) + samples.committedBytes }

    /// Ingests one validated Push (`PushRequestView.init` checked tenant and profile id),
    /// inflating and decoding its profile with the workspace's decoder.
    @discardableResult
    public func ingest(_ push: PushRequestView) throws(PushError) -> PushIngestStats {
        let pprof = try workspace.inflater.inflate(push.profile)
        do {
            try workspace.decoder.decode(pprof)
            try workspace.decoder.resolveReferences()
        } catch {
            throw PushError(error)
        }
        return try ingest(push, profile: workspace.decoder)
    }

    /// Ingests a Push whose profile a `PushDecoder` already decoded (`profile` holds its
    /// columns; both views must stay valid for the call). References are resolved here if
    /// the caller has not (the head indexes the columns without further checks).
    @discardableResult
    public func ingest(_ push: PushRequestView, profile: PprofDecoder) throws(PushError) -> PushIngestStats {
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
        workspace.scratch.requestLabels.removeNamesWithAnEmptyValue()
        workspace.scratch.annotations.reset()
        for pair in push.annotations { workspace.scratch.annotations.append(name: pair.name, value: pair.value) }
        return try ingestDecoded(profile.tables, tenant: push.tenantID, service: service, id: id)
    }

    /// Everything after decoding: check in scratch, then commit.
    private func ingestDecoded(_ p: PprofTables, tenant: UnsafeRawBufferPointer, service: UnsafeRawBufferPointer,
                               id: UInt128) throws(PushError) -> PushIngestStats {
        precondition(!tenant.isEmpty, "PushRequestView guarantees a tenant")
        precondition(p.referencesResolved, "the head reads resolved columns only")
        guard p.sampleCount <= limits.samplesPerProfileMax else {
            throw Self.exhausted("profile has \(p.sampleCount) samples, limit \(limits.samplesPerProfileMax)")
        }
        let keys = SpecialLabelKeys(p)
        workspace.scratch.split.split(p, keys: keys, requestLabels: workspace.scratch.requestLabels)
        if let why = workspace.scratch.split.exhausted { throw Self.exhausted(why) }
        try checkSplitReferences(p)
        if keys.hasNameString { try checkProfileNames() }

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
        var stats = heads[h].pushStats
        stats.profileBytes = p.bytes.count
        return stats
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

    /// A group's `__name__` starts its series' profile type, which the segment's metadata lists
    /// (segment-object.md §6). Like the sample and period type strings (the decoder checks
    /// those), one that a sample label sets must be UTF-8: a `BlockMeta` string that is not
    /// makes the metadata of every tenant in the segment undecodable to the metastore. Request
    /// labels were checked on receipt, so only a profile whose strings spell `__name__` is looked at.
    private func checkProfileNames() throws(PushError) {
        let groups = workspace.scratch.split.groupCount
        for g in 0 ..< groups where workspace.scratch.split.groupSampleCount[g] > 0 {
            let set = workspace.scratch.split.labelSet(ofGroup: g)
            if let name = workspace.scratch.split.groupLabels.value(named: LabelNames.name, inSet: set), !isValidUTF8(name) {
                throw PushError(.profileUndecodable, "pprof: a sample label __name__, the profile type's name, is not valid UTF-8")
            }
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
        var need = arenaBytesToIngest(p, workspace.scratch.split, head: head, newNodes: nil)
        if need > columns.remainingBytes,
           let nodes = StackTreeBuilder.distinctPrefixes(starts: p.sampleLocationStarts, frames: p.sampleLocationIndices,
                                                         limit: min(Self.prefixCountMax, columns.remainingBytes / 12)) {
            // One node per frame does not fit: count the nodes the stacks can really add (each
            // takes 12 bytes of node columns at least, so more than that many cannot fit).
            need = arenaBytesToIngest(p, workspace.scratch.split, head: head, newNodes: nodes)
        }
        admittedArenaBytes = need
        if need > columns.remainingBytes {
            if let error = columns.reservationError {
                throw Self.exhausted("no column arena: reserving \(limits.accumulatedBytesMax) bytes of address space failed (errno \(error))")
            }
            throw Self.exhausted("shard columns take \(columns.usedBytes) bytes, push may take \(need), limit \(columns.capacityBytes)")
        }
    }

    /// An upper bound of the bytes the push may take from the column arena: its dataset's
    /// series, rows, comments, annotations and symbols, and the head itself when it is new.
    private func arenaBytesToIngest(_ p: PprofTables, _ split: borrowing SampleSplit, head: Int?, newNodes: Int?) -> Int {
        // Per row (group × sample type), the series label set: the group's labels, the derived
        // names, and derived values made of the group's labels (service name, `__name__` in the
        // profile type) and the sample and period type strings.
        var periodBytes = 0
        if let period = p.periodType { periodBytes = p.string(period.type).count + p.string(period.unit).count }
        var typeBytes = 0
        for t in 0 ..< p.typeCount { typeBytes += p.string(p.sampleTypes[t].type).count + p.string(p.sampleTypes[t].unit).count }
        var pairs = 0, labelBytes = 0
        for g in 0 ..< split.groupCount {
            let set = split.labelSet(ofGroup: g)
            pairs += (split.groupLabels.pairRange(set).count + 7) * p.typeCount
            labelBytes += (3 * split.groupLabels.byteCount(ofSet: set) + 2 * periodBytes + 256) * p.typeCount + 2 * typeBytes
        }
        let rows = split.groupCount * p.typeCount
        let annotations = workspace.scratch.annotations
        if let h = head {
            return heads[h].bytesToIngest(rows: rows, seriesPairs: pairs, seriesLabelBytes: labelBytes,
                                          commentsPerRow: p.comments.count, annotations: annotations)
                + heads[h].symbols.bytesToIngest(p, newNodes: newNodes)
        }
        return blankHeadBytes
            + blankHead.bytesToIngest(rows: rows, seriesPairs: pairs, seriesLabelBytes: labelBytes,
                                      commentsPerRow: p.comments.count, annotations: annotations)
            + blankHead.symbols.bytesToIngest(p, newNodes: newNodes)
    }

    /// The most tree nodes admission counts a push's stacks to (`distinctPrefixes`, whose table
    /// then takes at most 24 MiB, 36 MiB while its last growth copies): a push with more is
    /// judged by one node per frame.
    static let prefixCountMax = 1 << 19

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

    /// Blocks held by the heads' columns (re-taken after a flush by active datasets) and the
    /// sample arena's committed pages.
    var reservedBytes: Int { heads.reduce(samples.committedBytes) { $0 + $1.reservedBytes } }

    /// Forgets all accumulated data. The column arena starts over; heads that received pushes
    /// take blocks as large as their last segment needed; heads idle for a whole segment are
    /// released, so the registry stays bounded by `datasetsMax`.
    func resetAfterFlush() {
        heads.removeAll { $0.pushCount == 0 }
        columns.reset()
        headsByKey.removeAll(keepingCapacity: true)
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
        flushWithStats(segmentID: segmentID, shard: shard, createdBy: createdBy, into: &w)?.meta
    }

    /// `flush`, with what each service dataset held and took in the object (in the object's
    /// dataset order).
    public func flushWithStats(segmentID: ULID, shard: UInt32, createdBy: ByteString,
                               into w: inout ByteWriter) -> (meta: BlockMeta, datasets: [DatasetFlushStats])? {
        guard pushCount > 0 else { return nil }
        let object = assemble(segmentID: segmentID, shard: shard, createdBy: createdBy, into: &w)
        resetAfterFlush()
        return object
    }

    /// The object and each dataset's stats. The flushed datasets read the heads and the arenas
    /// while the object is written, so they live only in here, gone before the reset.
    private func assemble(segmentID: ULID, shard: UInt32, createdBy: ByteString,
                          into w: inout ByteWriter) -> (meta: BlockMeta, datasets: [DatasetFlushStats]) {
        let times = TimedDataset.Times(count: headsInFlushOrder.count)
        var stats: [DatasetFlushStats] = []
        let datasets = headsInFlushOrder.compactMap { h -> TimedDataset? in
            let start = ContinuousClock.now
            guard let flushed = heads[h].flushed(arena: samples) else { return nil }
            var s = DatasetFlushStats()
            s.tenant = flushed.tenant
            s.series = heads[h].seriesCount
            s.profiles = heads[h].rowCount
            s.samples = heads[h].sampleCount
            s.unsymbolized = flushed.hasUnsymbolizedProfiles
            times.nanoseconds[stats.count] = TimedDataset.nanoseconds(ContinuousClock.now - start)
            stats.append(s)
            return TimedDataset(base: flushed, position: stats.count - 1, times: times)
        }
        let meta = SegmentAssembler.assemble(datasets, id: segmentID, shard: shard, hostname: createdBy, into: &w)
        let services = meta.datasets.filter { $0.format == DatasetFormat.services.rawValue }
        precondition(services.count == stats.count, "one service dataset in the object per flushed head")
        for i in stats.indices {
            stats[i].takeSections(of: services[i])
            stats[i].durationNs = times.nanoseconds[i]
        }
        return (meta, stats)
    }
}
