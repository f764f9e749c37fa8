import ArgumentParser
import BinaryCoding
import SegmentObject

/// `segtool top PATH [--dataset N] [--type T]`: heaviest functions per profile type.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Heaviest functions, self and total, per profile type.")

    @OptionGroup var metadata: MetadataOptions

    @Option(help: "Only this dataset (position in the metadata).")
    var dataset: Int?

    @Option(name: .customLong("type"), help: "Only profile types containing this text.")
    var profileType: String?

    @Option(help: "Functions to show per type.")
    var limit = 20

    @Flag(help: "Sort by total instead of self.")
    var byTotal = false

    @Argument(help: "A block.bin file.")
    var path: String

    struct Weight { var selfValue: Int64 = 0; var totalValue: Int64 = 0 }

    func run() throws {
        let verified = try ObjectInput(path: path, metaPath: metadata.meta).verify()
        if let dataset, !verified.datasets.contains(where: { $0.layout.position == dataset && $0.layout.format == .services }) {
            throw ToolError("no service dataset \(dataset) in \(path)")
        }
        var byType: [ByteString: [ByteString: Weight]] = [:]
        var sums: [ByteString: Int64] = [:]
        for d in verified.datasets where dataset == nil || d.layout.position == dataset {
            guard let rows = ProfileRows(d) else { continue }
            accumulate(rows, into: &byType, sums: &sums)
        }
        for type in byType.keys.sorted() {
            let total = sums[type] ?? 0
            print("\(type)  (total \(total))")
            print(pad("self", 14) + pad("self%", 8) + pad("total", 14) + pad("total%", 8) + "  function")
            let ranked = byType[type]!.sorted { a, b in
                let (x, y) = byTotal ? (a.value.totalValue, b.value.totalValue) : (a.value.selfValue, b.value.selfValue)
                return x != y ? x > y : a.key < b.key
            }
            for (name, w) in ranked.prefix(limit) {
                print(pad("\(w.selfValue)", 14) + pad(percent(w.selfValue, total), 8)
                    + pad("\(w.totalValue)", 14) + pad(percent(w.totalValue, total), 8) + "  \(name)")
            }
            print("")
        }
    }

    private func accumulate(_ rows: ProfileRows, into byType: inout [ByteString: [ByteString: Weight]], sums: inout [ByteString: Int64]) {
        let c = rows.columns
        var stack: [UInt32] = []
        for r in 0 ..< c.rowCount {
            let type = rows.profileType(r)
            if let filter = profileType, !type.description.contains(filter) { continue }
            guard let partition = rows.partition(r) else { continue }
            var weights = byType[type, default: [:]]
            for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                let value = c.sampleValues[s]
                guard (try? partition.resolveStack(UInt32(truncatingIfNeeded: c.sampleStacktraceIDs[s]), into: &stack)) != nil else { continue }
                sums[type, default: 0] &+= value
                let frames = stack.flatMap { ProfileRows.frames(partition, location: $0) }
                if let leaf = frames.first { weights[leaf, default: Weight()].selfValue &+= value }
                for name in Set(frames) { weights[name, default: Weight()].totalValue &+= value }
            }
            byType[type] = weights
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    private func percent(_ v: Int64, _ total: Int64) -> String {
        guard total != 0 else { return "-" }
        let tenths = Int((Double(v) / Double(total) * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
