import ArgumentParser
import SegmentTools

/// `segtool verify PATH...`: exit 0 only if every object is valid; otherwise name the object,
/// the dataset, the section and the absolute offset of the first problem of each bad one.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check objects deeply: container, every section, and how they agree.")

    @OptionGroup var metadata: MetadataOptions

    @Argument(help: "block.bin files.")
    var paths: [String]

    func run() throws {
        var failures = 0
        for path in paths {
            let result: VerifyResult
            do {
                result = ObjectVerification.verify(try ObjectInput(path: path, metaPath: metadata.meta))
            } catch {
                failures += 1
                print("FAIL \(path): \(error)")
                continue
            }
            if !result.isValid { failures += 1 }
            print(result.line)
        }
        if paths.count > 1 { print("\(paths.count - failures) of \(paths.count) objects valid") }
        if failures > 0 { throw ExitCode(1) }
    }
}
