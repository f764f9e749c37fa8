/// Bounds of one shard accumulator, fixed at start-up (house style: a limit on everything).
/// Crossing one refuses the push with `RESOURCE_EXHAUSTED` and leaves the head unchanged.
public struct AccumulatorLimits: Sendable {
    /// Memory charged to accumulated data (symbols, series, rows, samples) of one shard;
    /// the service should flush early well before it (see `ShardAccumulator.accumulatedBytes`).
    public var accumulatedBytesMax: Int
    /// Samples of one shard per segment (rows of every dataset): the `SampleArena` reserves this
    /// much address space at start-up (36 bytes a sample) and commits it as it is reached.
    /// Default: as many as `accumulatedBytesMax` could hold.
    public var samplesMax: Int
    /// Datasets (tenant, service) per segment.
    public var datasetsMax: Int
    /// Series per dataset per segment.
    public var seriesPerDatasetMax: Int
    /// Labels of one series, derived labels included.
    public var labelsPerSeriesMax: Int
    /// Samples of one profile (the distributor's default is 16000).
    public var samplesPerProfileMax: Int
    /// Decompressed profile size (the distributor's `max_profile_size_bytes`, 4 MiB).
    public var profileBytesMax: Int

    public init(accumulatedBytesMax: Int = 512 << 20, samplesMax: Int? = nil, datasetsMax: Int = 4096,
                seriesPerDatasetMax: Int = 1 << 20, labelsPerSeriesMax: Int = 128, samplesPerProfileMax: Int = 1 << 20,
                profileBytesMax: Int = 16 << 20) {
        self.accumulatedBytesMax = accumulatedBytesMax
        self.samplesMax = samplesMax ?? max(1, accumulatedBytesMax / 36)
        self.datasetsMax = datasetsMax
        self.seriesPerDatasetMax = seriesPerDatasetMax
        self.labelsPerSeriesMax = labelsPerSeriesMax
        self.samplesPerProfileMax = samplesPerProfileMax
        self.profileBytesMax = profileBytesMax
    }
}
