import BinaryCoding
import SegmentObject

/// One service dataset of a flushed segment, for upstream's head flush metrics
/// (`pkg/segmentwriter/memdb`, ingest-and-ops.md §5.3): what the head held, the sizes of its
/// three sections in the object and the time it took.
public struct DatasetFlushStats: Sendable, Equatable {
    public var tenant = ByteString("")
    public var series = 0
    public var profiles = 0
    public var samples = 0
    /// Some location of the dataset has no symbols (`head_flushed_blocks_unsymbolized_total`).
    public var unsymbolized = false
    public var profilesBytes = 0
    public var indexBytes = 0
    public var symbolsBytes = 0
    /// Turning the head into its columns and encoding its three sections (the tenant index and
    /// the trailer, shared by datasets, are not in it).
    public var durationNs: Int64 = 0

    public init() {}

    /// Section sizes from the dataset's table of contents (profiles.parquet, index.tsdb,
    /// symbols.symdb, in that order; segment-object.md §3.1).
    mutating func takeSections(of dataset: DatasetMeta) {
        let toc = dataset.tableOfContents
        precondition(toc.count == DatasetFormat.services.sectionCount, "a service dataset has three sections")
        profilesBytes = Int(toc[1] - toc[0])
        indexBytes = Int(toc[2] - toc[1])
        symbolsBytes = Int(toc[0] + dataset.size - toc[2])
    }
}
