import ArgumentParser

/// `segtool top PATH [--dataset N] [--type T]` (not yet implemented).
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Heaviest functions, self and total, per profile type.")
}
