import BinaryCoding

/// One label of a series. Names and values are raw bytes (tsdb-index.md §2).
public struct SeriesLabel: Hashable, Sendable {
    public var name: ByteString
    public var value: ByteString

    @inlinable
    public init(name: ByteString, value: ByteString) {
        self.name = name
        self.value = value
    }
}

/// A Loki/Pyroscope chunk meta (tsdb-index.md §3.2). Pyroscope writes exactly one per
/// series with `kb = checksum = 0`; `seriesIndex` is the series ordinal in a dataset's
/// `index.tsdb` and the dataset position in a tenant dataset index (§8).
public struct ChunkMeta: Hashable, Sendable {
    public var minTime: Int64
    public var maxTime: Int64
    public var kb: UInt32
    public var seriesIndex: UInt32
    public var checksum: UInt32

    @inlinable
    public init(minTime: Int64, maxTime: Int64, kb: UInt32 = 0, seriesIndex: UInt32, checksum: UInt32 = 0) {
        self.minTime = minTime
        self.maxTime = maxTime
        self.kb = kb
        self.seriesIndex = seriesIndex
        self.checksum = checksum
    }
}

/// One series entry: labels in stored order, the caller-supplied fingerprint, chunk metas.
public struct IndexSeries: Hashable, Sendable {
    public var labels: [SeriesLabel]
    public var fingerprint: UInt64
    public var chunks: [ChunkMeta]

    @inlinable
    public init(labels: [SeriesLabel], fingerprint: UInt64, chunks: [ChunkMeta]) {
        self.labels = labels
        self.fingerprint = fingerprint
        self.chunks = chunks
    }
}

/// Everything an `index.tsdb` carries that is not derived from its series:
/// the series in file order and the TOC time bounds.
public struct TSDBIndexContents: Sendable {
    /// In file order (which is also call order and `SeriesIndex` order in Pyroscope).
    public var series: [IndexSeries]
    public var from: Int64
    public var through: Int64

    @inlinable
    public init(series: [IndexSeries], from: Int64, through: Int64) {
        self.series = series
        self.from = from
        self.through = through
    }

    /// Contents with `from`/`through` computed from the chunks as Pyroscope does (§3.8).
    public init(series: [IndexSeries]) {
        let bounds = TSDBTimeBounds.of(series)
        self.init(series: series, from: bounds.from, through: bounds.through)
    }
}

/// `Metadata.EnsureBounds` (tsdb-index.md §3.8): zero means "unset", so an index whose
/// chunk times are all zero (the tenant dataset index) has bounds 0 and 0.
public enum TSDBTimeBounds {
    @inlinable
    public static func ensure(_ from: inout Int64, _ through: inout Int64, _ chunk: ChunkMeta) {
        if from == 0 || chunk.minTime < from { from = chunk.minTime }
        if through == 0 || chunk.maxTime > through { through = chunk.maxTime }
    }

    public static func of(_ series: [IndexSeries]) -> (from: Int64, through: Int64) {
        of(chunks: series.lazy.flatMap(\.chunks))
    }

    public static func of(chunks: some Sequence<ChunkMeta>) -> (from: Int64, through: Int64) {
        var from: Int64 = 0
        var through: Int64 = 0
        for c in chunks { ensure(&from, &through, c) }
        return (from, through)
    }
}
