import Foundation

/// The shared real data the benchmarks are built from: `../shared/testdata` beside the
/// repository root (or `$SEGMENT_WRITER_TESTDATA`), the same files the tests use.
enum BenchmarkData {
    static let root: URL = {
        if let path = ProcessInfo.processInfo.environment["SEGMENT_WRITER_TESTDATA"] {
            return URL(fileURLWithPath: path)
        }
        // Benchmarks/Benchmarks/SegmentBenchmarks/BenchmarkData.swift → repository root.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0 ..< 4 { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }()

    /// One golden dataset's three sections, cut with the TOC of `block-metas.json` (the 2024
    /// golden objects have no trailer of their own).
    struct GoldenDataset {
        var name: String
        var profiles: [UInt8]
        var tsdb: [UInt8]
        var symbols: [UInt8]
    }

    /// All datasets of all golden segments, in segment-ID order, read once for every benchmark.
    static let golden: [GoldenDataset] = goldenDatasets()

    private static func goldenDatasets() -> [GoldenDataset] {
        let segments = root.appendingPathComponent("segments")
        let json = try! JSONSerialization.jsonObject(
            with: Data(contentsOf: segments.appendingPathComponent("block-metas.json"))) as! [String: Any]
        let blocks = (json["blocks"] as! [[String: Any]]).sorted { ($0["id"] as! String) < ($1["id"] as! String) }
        var result: [GoldenDataset] = []
        for block in blocks {
            let id = block["id"] as! String
            let url = segments.appendingPathComponent("1/anonymous/\(id)/block.bin")
            let object = [UInt8](try! Data(contentsOf: url))
            for (i, dataset) in (block["datasets"] as! [[String: Any]]).enumerated() {
                let toc = (dataset["tableOfContents"] as! [String]).map { Int($0)! }
                let end = toc[0] + Int(dataset["size"] as! String)!
                result.append(GoldenDataset(
                    name: "\(id)#\(i)",
                    profiles: Array(object[toc[0] ..< toc[1]]),
                    tsdb: Array(object[toc[1] ..< toc[2]]),
                    symbols: Array(object[toc[2] ..< end])))
            }
        }
        return result
    }

    /// Every file of the pprof corpus as (name, bytes as an agent sends them), sorted by name.
    static func pprofCorpus() -> [(name: String, bytes: [UInt8])] {
        let dir = root.appendingPathComponent("pprof")
        let names = try! FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        return names.map { ($0, [UInt8](try! Data(contentsOf: dir.appendingPathComponent($0)))) }
    }
}

/// A deterministic generator (SplitMix64) so synthetic inputs are identical run to run.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
