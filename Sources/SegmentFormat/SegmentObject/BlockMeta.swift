import BinaryCoding

/// `metastore.v1.BlockMeta` (segment-object.md §5.1): the metadata of one object,
/// stored in its trailer and registered with the metastore. Strings other than `id`
/// are indices into `stringTable`.
public struct BlockMeta: Equatable, Sendable {
    public var formatVersion: UInt32 = 0
    /// The ULID as written; kept as bytes so a decode → encode round trip is exact.
    public var id: ByteString = .empty
    public var tenant: Int32 = 0
    public var shard: UInt32 = 0
    public var compactionLevel: UInt32 = 0
    public var minTimeMs: Int64 = 0
    public var maxTimeMs: Int64 = 0
    public var createdBy: Int32 = 0
    /// Object length; 0 inside the trailer, set for AddBlock and the DLQ (§4.3).
    public var size: UInt64 = 0
    public var datasets: [DatasetMeta] = []
    public var stringTable: [ByteString] = []
    /// Where the trailer protobuf starts (`M`, §4.1).
    public var metadataOffset: UInt64 = 0
    /// Fields this schema does not know, kept in wire order and re-emitted last (as Go does).
    public var unknownFields: [UInt8] = []

    public init() {}

    /// The string at a string-table index, or nil when the index is out of range.
    public func string(at index: Int32) -> ByteString? {
        index >= 0 && Int(index) < stringTable.count ? stringTable[Int(index)] : nil
    }
}

/// `metastore.v1.Dataset` (segment-object.md §5.2): one region of the object.
public struct DatasetMeta: Equatable, Sendable {
    public var tenant: Int32 = 0
    public var name: Int32 = 0
    public var minTimeMs: Int64 = 0
    public var maxTimeMs: Int64 = 0
    /// Absolute object offsets of the sections (§3.1).
    public var tableOfContents: [UInt64] = []
    public var size: UInt64 = 0
    /// Concatenated label sets (§6.2), string-table indices.
    public var labels: [Int32] = []
    public var format: UInt32 = 0
    public var unknownFields: [UInt8] = []

    public init() {}
}

/// `Dataset.format` values (§3.1); others are malformed.
public enum DatasetFormat: UInt32, Sendable {
    /// A service dataset: profiles.parquet, index.tsdb, symbols.symdb.
    case services = 0
    /// A tenant's dataset index: one TSDB index over the tenant's series.
    case tenantIndex = 1

    /// TOC entries the format needs.
    public var sectionCount: Int { self == .services ? 3 : 1 }
}
