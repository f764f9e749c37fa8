import BinaryCoding

/// The per-tenant dataset index (tsdb-index.md §8, segment-object.md §7): the same index
/// format over every series of the tenant's Format-0 datasets.
public enum DatasetIndexWriter {
    /// Appends the tenant's dataset index to `w`. `datasets` are the tenant's Format-0 datasets
    /// in file order, each with its global position in `BlockMeta.datasets` and its series in
    /// its own index order (labels and fingerprints as stored there; their chunks are ignored).
    /// Series are concatenated, not re-sorted; each gets one chunk `(0, 0, 0, position, 0)`,
    /// so the TOC bounds are 0 and 0. Writes nothing when there is no series at all.
    public static func write(datasets: [(position: UInt32, series: [IndexSeries])], into w: inout ByteWriter) {
        write(datasets: datasets.map { ($0.position, IndexSeriesColumns($0.series)) }, into: &w)
    }

    /// The same from series as columns (what a flush hands over).
    public static func write(datasets: [(position: UInt32, series: IndexSeriesColumns)], into w: inout ByteWriter) {
        guard datasets.contains(where: { !$0.series.isEmpty }) else { return }
        let groups = datasets.map { IndexSeriesGroup(series: $0.series, datasetPosition: $0.position) }
        IndexEncoder.write(groups, from: 0, through: 0, into: &w)
    }
}
