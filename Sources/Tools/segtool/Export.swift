import ArgumentParser
import Foundation
import SegmentObject

/// `segtool export PATH --dataset N --out DIR`: every profile row as a gzipped pprof.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write each profile row of a dataset as a gzipped pprof.")

    @OptionGroup var metadata: MetadataOptions

    @Option(help: "Dataset position in the metadata.")
    var dataset: Int

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Argument(help: "A block.bin file.")
    var path: String

    func run() throws {
        let verified = try ObjectInput(path: path, metaPath: metadata.meta).verify()
        guard let d = verified.datasets.first(where: { $0.layout.position == dataset }), let rows = ProfileRows(d) else {
            throw ToolError("no service dataset \(dataset) in \(path)")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for r in 0 ..< rows.columns.rowCount {
            let pprof = try PprofEncoder.encode(rows, row: r)
            let type = rows.profileType(r).description.map { $0.isLetter || $0.isNumber ? $0 : "_" }
            let file = "\(out)/\(dataset)-\(r)-\(String(type)).pb.gz"
            guard FileManager.default.createFile(atPath: file, contents: Data(Gzip.compress(pprof))) else {
                throw ToolError("cannot write \(file)")
            }
            print(file)
        }
    }
}
