import ArgumentParser
import Foundation
import SegmentObject

/// `segtool inspect PATH [--meta block-metas.json] [--json]`.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an object's metadata, datasets, sections, series, rows and symbols.")

    @OptionGroup var metadata: MetadataOptions

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "List every series; by default the first \(Inspect.seriesShown) of each dataset (text output).")
    var allSeries = false

    static let seriesShown = 10

    @Argument(help: "A block.bin file.")
    var path: String

    func run() throws {
        let input = try ObjectInput(path: path, metaPath: metadata.meta)
        let summary = ObjectSummary(input, try input.open())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(text(summary), terminator: "")
        }
    }

    func text(_ s: ObjectSummary) -> String {
        var out = "object \(s.id)  shard \(s.shard)  level \(s.compactionLevel)  format \(s.formatVersion)  \(s.sizeBytes) bytes\n"
        out += "  time \(isoTime(s.minTimeMs)) .. \(isoTime(s.maxTimeMs))  created by \"\(s.createdBy)\"\n"
        out += "  metadata: " + (s.metadataOffset.map { "trailer at \($0)" } ?? "external") + "\n"
        for d in s.datasets {
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
