import ArgumentParser
import SegmentTools

/// `segtool inspect PATH [--meta block-metas.json] [--json] [--all-series]`.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an object's metadata, datasets, sections, series, rows and symbols.")

    @OptionGroup var metadata: MetadataOptions

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "List every series; by default the first \(ObjectSummary.seriesShown) of each dataset (text output).")
    var allSeries = false

    @Argument(help: "A block.bin file.")
    var path: String

    func run() throws {
        let summary = try ObjectSummary(try ObjectInput(path: path, metaPath: metadata.meta))
        if json {
            print(try summary.json())
        } else {
            print(summary.text(allSeries: allSeries), terminator: "")
        }
    }
}
