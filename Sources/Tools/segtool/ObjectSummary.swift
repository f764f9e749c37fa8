import BinaryCoding
import Foundation
import ProfilesParquet
import SegmentObject
import SymbolDB
import TSDBIndex

/// What `inspect` reports, for text and JSON output alike. Sections are read one by one, so a
/// damaged section is reported as an error without hiding the others.
struct ObjectSummary: Encodable {
    var path: String
    var id: String
    var shard: UInt32
    var compactionLevel: UInt32
    var formatVersion: UInt32
    var sizeBytes: Int
    var createdBy: String
    var minTimeMs: Int64
    var maxTimeMs: Int64
    /// "trailer" or "external".
    var metadataSource: String
    var metadataOffset: Int?
    var datasets: [DatasetSummary]
}

struct DatasetSummary: Encodable {
    var position: Int
    var format: String
    var tenant: String
    var service: String
    var minTimeMs: Int64
    var maxTimeMs: Int64
    var offset: Int
    var sizeBytes: Int
    var labelSets: [String]
    var profileTypes: [String]
    var sections: [SectionSummary]
    var seriesCount: Int?
    var series: [String]?
    var profileRows: Int?
    var sampleCount: Int?
    var profileColumns: Int?
    var symbols: SymbolSummary?
    /// Tenant index: the dataset positions its series point to.
    var datasetPositions: [UInt32]?
    var errors: [String]
}

struct SectionSummary: Encodable {
    var name: String
    var offset: Int
    var sizeBytes: Int
}

struct SymbolSummary: Encodable {
    var partitions: Int
    var strings: Int
    var mappings: Int
    var functions: Int
    var locations: Int
    var stacktraces: Int
    var stackNodes: Int
}

extension ObjectSummary {
    init(_ input: ObjectInput, _ layout: SegmentObjectLayout) {
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

/// Milliseconds since the epoch as ISO 8601 (UTC).
func isoTime(_ ms: Int64) -> String {
    guard ms > Int64.min / 2, ms < Int64.max / 2, ms != Int64.max else { return "-" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}
