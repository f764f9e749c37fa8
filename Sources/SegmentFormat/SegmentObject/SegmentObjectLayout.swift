import BinaryCoding

/// An opened object: its metadata and where every dataset and section lies
/// (absolute byte ranges, segment-object.md §3).
public struct SegmentObjectLayout: Sendable {
    public var meta: BlockMeta
    /// The trailer (protobuf, length, CRC) when the metadata came from it.
    public var trailer: Range<Int>?
    public var datasets: [DatasetLayout]
    /// Where the datasets end: the trailer start, or the object end without a trailer.
    public var dataEnd: Int

    public var createdBy: ByteString { meta.string(at: meta.createdBy) ?? .empty }
}

/// One region of `BlockMeta.datasets`, resolved.
public struct DatasetLayout: Sendable {
    /// Index in `BlockMeta.datasets` (what a tenant index's SeriesIndex refers to).
    public var position: Int
    public var format: DatasetFormat
    public var tenant: ByteString
    /// The service name; empty for a tenant index.
    public var name: ByteString
    public var minTimeMs: Int64
    public var maxTimeMs: Int64
    public var labelSets: [[LabelPair]]
    public var range: Range<Int>
    public var sections: [Section]

    /// The section of a kind, if the format has it.
    public func section(_ kind: SectionKind) -> Section? { sections.first { $0.kind == kind } }

    /// Profile types named by the label sets (`__profile_type__` values).
    public var profileTypes: [ByteString] {
        labelSets.flatMap { $0.filter { $0.name == DatasetLabels.profileType }.map(\.value) }
    }
}

public enum SectionKind: String, Sendable {
    case profiles = "profiles.parquet"
    case index = "index.tsdb"
    case symbols = "symbols.symdb"
    case datasetIndex = "dataset index"
}

public struct Section: Sendable, Equatable {
    public var kind: SectionKind
    public var range: Range<Int>
}
