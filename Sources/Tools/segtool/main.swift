import ArgumentParser

/// `segtool`: inspect, verify and export Pyroscope segment objects (`block.bin`).
struct SegTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segtool",
        abstract: "Inspect, verify and export Pyroscope v2 segment objects (block.bin).",
        subcommands: [Inspect.self, Verify.self, Export.self, Top.self])
}

SegTool.main()
