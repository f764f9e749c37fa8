import BinaryCoding
import Foundation
import ProfilesParquet
import SegmentObject
import SymbolDB
import TSDBIndex

/// What `inspect` reports, for text and JSON output alike. Sections are read one by one, so a
/// damaged section is reported as an error without hiding the others.
public struct ObjectSummary: Codable, Sendable {
    public var path: String
    public var id: String
    public var shard: UInt32
    public var compactionLevel: UInt32
    public var formatVersion: UInt32
    public var sizeBytes: Int
    public var createdBy: String
    public var minTimeMs: Int64
    public var maxTimeMs: Int64
    /// "trailer" or "external".
    public var metadataSource: String
    public var metadataOffset: Int?
    public var datasets: [DatasetSummary]
}

public struct DatasetSummary: Codable, Sendable {
    public var position: Int
    public var format: String
    public var tenant: String
    public var service: String
    public var minTimeMs: Int64
    public var maxTimeMs: Int64
    public var offset: Int
    public var sizeBytes: Int
    public var labelSets: [String]
    public var profileTypes: [String]
    public var sections: [SectionSummary]
    public var seriesCount: Int?
    public var series: [String]?
    public var profileRows: Int?
    public var sampleCount: Int?
    public var profileColumns: Int?
    public var symbols: SymbolSummary?
    /// Tenant index: the dataset positions its series point to.
    public var datasetPositions: [UInt32]?
    public var errors: [String]
}

public struct SectionSummary: Codable, Sendable {
    public var name: String
    public var offset: Int
    public var sizeBytes: Int
}

public struct SymbolSummary: Codable, Sendable {
    public var partitions: Int
    public var strings: Int
    public var mappings: Int
    public var functions: Int
    public var locations: Int
    public var stacktraces: Int
    public var stackNodes: Int
}

extension ObjectSummary {
    /// Opens `input` and reads every section; a damaged section becomes an entry in its
    /// dataset's `errors`, a damaged container throws.
    public init(_ input: ObjectInput) throws {
        self.init(input, try input.open())
    }

    /// Pretty-printed JSON with sorted keys (what `inspect --json` prints).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public init(_ input: ObjectInput, _ layout: SegmentObjectLayout) {
        let m = layout.meta
        self.init(
            path: input.path, id: m.id.description, shard: m.shard, compactionLevel: m.compactionLevel,
            formatVersion: m.formatVersion, sizeBytes: input.bytes.count, createdBy: layout.createdBy.description,
            minTimeMs: m.minTimeMs, maxTimeMs: m.maxTimeMs,
            metadataSource: layout.trailer == nil ? "external" : "trailer",
            metadataOffset: layout.trailer?.lowerBound,
            datasets: layout.datasets.map { DatasetSummary(input, $0) })
    }
}

extension DatasetSummary {
    init(_ input: ObjectInput, _ ds: DatasetLayout) {
        self.init(
            position: ds.position, format: ds.format == .services ? "services" : "tenant-index",
            tenant: ds.tenant.description, service: ds.name.description,
            minTimeMs: ds.minTimeMs, maxTimeMs: ds.maxTimeMs,
            offset: ds.range.lowerBound, sizeBytes: ds.range.count,
            labelSets: ds.labelSets.map(render), profileTypes: ds.profileTypes.map(\.description),
            sections: ds.sections.map { SectionSummary(name: $0.kind.rawValue, offset: $0.range.lowerBound, sizeBytes: $0.range.count) },
            errors: [])
        for section in ds.sections {
            do {
                try read(section, input, ds)
            } catch {
                errors.append("\(section.kind.rawValue): \(error)")
            }
        }
    }

    private mutating func read(_ section: Section, _ input: ObjectInput, _ ds: DatasetLayout) throws {
        switch section.kind {
        case .index, .datasetIndex:
            let index = try input.withSection(section.range) { try TSDBIndexReader.read($0) }
            seriesCount = index.series.count
            series = index.series.map { s in "{" + s.labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ", ") + "}" }
            if profileTypes.isEmpty && ds.format == .services {
                // Era-A metadata has no labels: take the types from the series.
                let types = index.series.flatMap { $0.labels.filter { $0.name == DatasetLabels.profileType }.map(\.value) }
                profileTypes = Set(types).sorted().map(\.description)
            }
            if ds.format == .tenantIndex {
                datasetPositions = Array(Set(index.series.flatMap { $0.chunks.map(\.seriesIndex) })).sorted()
            }
        case .profiles:
            let table = try input.withSection(section.range) { try ProfilesParquetReader.read($0) }
            profileRows = table.rowCount
            sampleCount = table.columns.sampleCount
            profileColumns = table.schemaColumnCount
        case .symbols:
            let db = try input.withSection(section.range) { try SymbolDBReader.read($0) }
            let p = db.partitions
            symbols = SymbolSummary(
                partitions: p.count, strings: p.reduce(0) { $0 + $1.strings.count },
                mappings: p.reduce(0) { $0 + $1.mappings.count }, functions: p.reduce(0) { $0 + $1.functions.count },
                locations: p.reduce(0) { $0 + $1.locations.count }, stacktraces: p.reduce(0) { $0 + $1.stacktraceCount },
                stackNodes: p.reduce(0) { $0 + $1.stackParents.count })
        }
    }
}

private func render(_ set: [LabelPair]) -> String {
    set.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
}
