import FuzzChecks
import Foundation

// Built two ways (Makefile `fuzz`, `fuzz-replay`):
// - with AddressSanitizer, libFuzzer's coverage and `-D FUZZING`: libFuzzer's driver runs the
//   check on each input it makes; a broken promise traps, so libFuzzer keeps the input as a crash;
// - plainly: `fuzz FILE|DIR...` replays inputs (a crash libFuzzer kept, a corpus) through the
//   same check and prints each outcome.
// Both read FUZZ_INPUT (`FuzzInput`: `profile`, the default, `push`, `sequence`, `grpc`,
// `metastore`, `http1`, `memberlist` or `s3`) and FUZZ_SEED (the seed profile's path, for the ingest checks); `fuzz --seeds`
// writes a run's first inputs.

/// FUZZ_INPUT.
func input() -> FuzzInput {
    let name = ProcessInfo.processInfo.environment["FUZZ_INPUT"] ?? FuzzInput.profile.rawValue
    guard let input = FuzzInput(rawValue: name) else {
        fatalError("FUZZ_INPUT=\(name): expected one of \(FuzzInput.allCases.map(\.rawValue))")
    }
    return input
}

/// The check both builds run, from the environment.
func makeCheck() -> FuzzTarget {
    let input = input()
    var seed: [UInt8] = []
    if input.pushesProfiles {
        let path = ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "../shared/testdata/pprof/profile_nodejs"
        guard let bytes = FileManager.default.contents(atPath: path) else { fatalError("FUZZ_SEED=\(path): cannot read it") }
        seed = [UInt8](bytes)
    }
    do {
        return try FuzzTarget(input, seedProfile: seed)
    } catch {
        fatalError("\(error)")
    }
}

#if FUZZING
nonisolated(unsafe) private var check: FuzzTarget?

/// libFuzzer's driver, called from our `main`: SwiftPM links an executable's entry point under
/// its own name, so libFuzzer's `main` is never the one that runs.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
enum FuzzMain {
    static func main() {
        check = makeCheck()
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in
            do {
                try check!.run(UnsafeRawBufferPointer(start: data, count: size))
            } catch {
                fatalError("\(error)")
            }
            return 0
        })
    }
}
#else
@main
enum FuzzReplay {
    static func main() {
        var paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: [FUZZ_INPUT=profile|push|sequence|grpc|metastore|http1|memberlist|s3] [FUZZ_SEED=FILE] fuzz FILE|DIR...")
            print("       [FUZZ_INPUT=...] fuzz --seeds OUT_DIR PROFILE_DIR  (a fuzzing run's first inputs, made of the profiles)")
            exit(2)
        }
        if paths.first == "--seeds" {
            paths.removeFirst()
            guard let out = paths.popFirst(), let profileDirectory = paths.popFirst() else { exit(2) }
            let profiles = files(profileDirectory).compactMap { path in
                FileManager.default.contents(atPath: path).map { (name: URL(fileURLWithPath: path).lastPathComponent, bytes: [UInt8]($0)) }
            }
            for seed in FuzzTarget.seeds(for: input(), profiles: profiles) {
                guard FileManager.default.createFile(atPath: out + "/" + seed.name, contents: Data(seed.bytes)) else {
                    fatalError("\(out)/\(seed.name): cannot write it")
                }
            }
            exit(0)
        }
        let check = makeCheck()
        var violations = 0
        for path in paths.flatMap(files) {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read it")
                violations += 1
                continue
            }
            do {
                let outcome = try [UInt8](bytes).withUnsafeBytes { raw throws(FuzzViolation) in try check.run(raw) }
                print("\(path): \(outcome)")
            } catch {
                print("\(path): VIOLATION: \(error)")
                violations += 1
            }
        }
        exit(violations == 0 ? 0 : 1)
    }

    /// A file, or the files of a directory (not recursive), sorted.
    static func files(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [path] }
        return names.sorted().map { path + "/" + $0 }
    }
}
#endif
