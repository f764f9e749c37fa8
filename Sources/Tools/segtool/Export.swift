import ArgumentParser
import Foundation
import SegmentTools

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
        let verified = try ObjectInput(path: path, metaPath: metadata.meta).verified()
        let profiles = try PprofExport.export(verified, dataset: dataset)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for p in profiles {
            let file = "\(out)/\(p.fileName)"
            guard FileManager.default.createFile(atPath: file, contents: Data(p.gzip)) else {
                throw SegmentToolError("cannot write \(file)")
            }
            print(file)
        }
    }
}
