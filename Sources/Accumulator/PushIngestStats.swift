/// What one push added to its dataset, for upstream's head metrics
/// (`pkg/segmentwriter/memdb/metrics.go`, ingest-and-ops.md §5.3).
public struct PushIngestStats: Sendable, Equatable {
    /// The decoded (decompressed) profile's size: `segment_ingest_bytes` (upstream: `p.SizeVT()`).
    public var profileBytes = 0
    /// New series in the dataset: `tsdb_head_series_created_total`.
    public var seriesCreated = 0
    /// Profile rows (one per label group and sample type with a non-zero value):
    /// `head_profiles_created_total`.
    public var profilesCreated = 0
    /// Non-zero values stored over those rows: `head_ingested_sample_values_total`.
    public var sampleValuesIngested = 0
    /// Per row, the samples of its group (upstream adds `len(p.Sample)` of the sub-profile per
    /// row): `head_received_sample_values_total`.
    public var sampleValuesReceived = 0

    public init() {}
}
