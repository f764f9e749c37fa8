import Foundation

extension ObjectSummary {
    /// How many series of each dataset the text shows unless `allSeries`.
    public static let seriesShown = 10

    /// The human-readable report `inspect` prints.
    public func text(allSeries: Bool = false) -> String {
        var out = "object \(id)  shard \(shard)  level \(compactionLevel)  format \(formatVersion)  \(sizeBytes) bytes\n"
        out += "  time \(isoTime(minTimeMs)) .. \(isoTime(maxTimeMs))  created by \"\(createdBy)\"\n"
        out += "  metadata: " + (metadataOffset.map { "trailer at \($0)" } ?? "external") + "\n"
        for d in datasets {
            let name = d.format == "services" ? "\(d.tenant) / \(d.service)" : "\(d.tenant) (tenant index)"
            out += "dataset \(d.position)  \(name)  [\(d.offset), \(d.offset + d.sizeBytes))  \(isoTime(d.minTimeMs)) .. \(isoTime(d.maxTimeMs))\n"
            if !d.profileTypes.isEmpty { out += "  profile types: \(d.profileTypes.joined(separator: ", "))\n" }
            if !d.labelSets.isEmpty && d.format != "services" { out += "  labels: \(d.labelSets.joined(separator: "; "))\n" }
            out += "  sections: " + d.sections.map { "\($0.name) \($0.sizeBytes) B @\($0.offset)" }.joined(separator: ", ") + "\n"
            if let n = d.seriesCount { out += "  series: \(n)" + (d.datasetPositions.map { " -> datasets \($0)" } ?? "") + "\n" }
            if let list = d.series {
                let shown = allSeries ? list.count : min(list.count, Self.seriesShown)
                for l in list.prefix(shown) { out += "    \(l)\n" }
                if shown < list.count { out += "    … \(list.count - shown) more (--all-series)\n" }
            }
            if let rows = d.profileRows {
                out += "  profiles: \(rows) rows, \(d.sampleCount ?? 0) samples, \(d.profileColumns ?? 0) columns\n"
            }
            if let y = d.symbols {
                out += "  symbols: \(y.partitions) partitions, \(y.strings) strings, \(y.mappings) mappings, "
                    + "\(y.functions) functions, \(y.locations) locations, \(y.stacktraces) stacks (\(y.stackNodes) nodes)\n"
            }
            for e in d.errors { out += "  ERROR \(e)\n" }
        }
        return out
    }
}

/// Milliseconds since the epoch as ISO 8601 (UTC); "-" for the open-ended sentinels.
func isoTime(_ ms: Int64) -> String {
    guard ms > Int64.min / 2, ms < Int64.max / 2 else { return "-" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}
