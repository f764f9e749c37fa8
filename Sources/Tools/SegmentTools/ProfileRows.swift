import BinaryCoding
import ProfilesParquet
import SegmentObject
import SymbolDB
import TSDBIndex

/// The profile rows of one service dataset with what resolves them: series labels (for the
/// profile type) and symbol partitions (for stacks). Used by `top` and `export`.
/// `nil` for a tenant-index dataset.
public struct ProfileRows: Sendable {
    public var dataset: DatasetContents
    public var columns: ProfileColumns
    public var series: [IndexSeries]
    public var partitions: [UInt64: SymbolPartition]

    public init?(_ d: DatasetContents) {
        guard d.layout.format == .services, let table = d.profiles, let symbols = d.symbols else { return nil }
        dataset = d
        columns = table.columns
        series = d.index.series
        partitions = Dictionary(symbols.partitions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// `__profile_type__` of the row's series, e.g. `process_cpu:cpu:nanoseconds:cpu:nanoseconds`.
    public func profileType(_ row: Int) -> ByteString {
        let labels = series[Int(columns.seriesIndex[row])].labels
        return labels.first { $0.name == DatasetLabels.profileType }?.value ?? "unknown"
    }

    public func partition(_ row: Int) -> SymbolPartition? { partitions[columns.stacktracePartition[row]] }

    /// Function names of one location, innermost first (a location's lines list inlined frames
    /// before their caller); the address when it has no lines.
    public static func frames(_ p: SymbolPartition, location: UInt32) -> [ByteString] {
        guard Int(location) < p.locations.count else { return [ByteString("<bad location \(location)>")] }
        let loc = p.locations[Int(location)]
        if loc.lines.isEmpty { return [ByteString("0x" + String(loc.address, radix: 16))] }
        return loc.lines.map { line in
            guard Int(line.functionID) < p.functions.count else { return "<bad function>" }
            let name = p.functions[Int(line.functionID)].name
            return Int(name) < p.strings.count ? p.strings[Int(name)] : "<bad string>"
        }
    }
}
