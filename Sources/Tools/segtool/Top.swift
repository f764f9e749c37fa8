import ArgumentParser
import SegmentTools

/// `segtool top PATH [--dataset N] [--type T] [--limit N] [--by-total]`.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Heaviest functions, self and total, per profile type.")

    @OptionGroup var metadata: MetadataOptions

    @Option(help: "Only this dataset (position in the metadata).")
    var dataset: Int?

    @Option(name: .customLong("type"), help: "Only profile types containing this text.")
    var profileType: String?

    @Option(help: "Functions to show per type.")
    var limit = 20

    @Flag(help: "Sort by total instead of self.")
    var byTotal = false

    @Argument(help: "A block.bin file.")
    var path: String

    func run() throws {
        let verified = try ObjectInput(path: path, metaPath: metadata.meta).verified()
        let table = try TopTable.compute(verified, dataset: dataset, typeFilter: profileType, limit: limit, byTotal: byTotal)
        print(TopTable.text(table), terminator: "")
    }
}
