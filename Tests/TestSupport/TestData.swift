import Foundation

/// Locations of the shared test data (`../shared/testdata` beside the repository).
public enum TestData {
    /// The repository root, found from this file's path (Tests/TestSupport/TestData.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let root: URL = {
        if let env = ProcessInfo.processInfo.environment["SEGMENT_WRITER_TESTDATA"] {
            return URL(fileURLWithPath: env)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }()

    public static let segmentsDirectory = root.appendingPathComponent("segments")
    public static let blockMetasJSON = segmentsDirectory.appendingPathComponent("block-metas.json")
    public static let pprofDirectory = root.appendingPathComponent("pprof")

    /// Every golden `block.bin`, sorted by ULID.
    public static func goldenSegments() throws -> [(id: String, url: URL)] {
        let dir = segmentsDirectory.appendingPathComponent("1/anonymous")
        let ids = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        return ids.map { ($0, dir.appendingPathComponent($0).appendingPathComponent("block.bin")) }
    }

    /// Every pprof file in the shared corpus, sorted by name.
    public static func pprofFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: pprofDirectory.path).sorted()
            .map { pprofDirectory.appendingPathComponent($0) }
    }

    public static func bytes(_ url: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url))
    }
}
