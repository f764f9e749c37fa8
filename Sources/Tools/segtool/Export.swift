import ArgumentParser

/// `segtool export PATH --dataset N --out DIR` (not yet implemented).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write each profile row of a dataset as a gzipped pprof.")
}
