import ArgumentParser
import BinaryCoding
import SegmentObject

/// `segtool verify PATH...`: exit 0 only if every object is valid; otherwise name the object,
/// the section and the absolute offset of the first problem of each bad one.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check objects deeply: container, every section, and how they agree.")

    @OptionGroup var metadata: MetadataOptions

    @Argument(help: "block.bin files.")
    var paths: [String]

    func run() throws {
        var failures = 0
        for path in paths {
            do {
                let input = try ObjectInput(path: path, metaPath: metadata.meta)
                let verified = try input.verify()
                print("OK   \(path): \(verified.datasets.count) datasets, \(input.bytes.count) bytes")
            } catch let error as DecodeError {
                failures += 1
                print("FAIL \(path): \(Self.describe(error))")
            } catch {
                failures += 1
                print("FAIL \(path): \(error)")
            }
        }
        if paths.count > 1 { print("\(paths.count - failures) of \(paths.count) objects valid") }
        if failures > 0 { throw ExitCode(1) }
    }

    /// `dataset 2 / index.tsdb / series: malformed at offset 12345 (0x3039): …`
    static func describe(_ e: DecodeError) -> String {
        let section = e.context.isEmpty ? "object" : e.context.joined(separator: " / ")
        return "\(section): \(e.kind.rawValue) at offset \(e.offset) (0x\(String(e.offset, radix: 16))): \(e.message)"
    }
}
