import BinaryCoding
import SegmentObject

/// The heaviest functions of one profile type: self (leaf frame) and total (anywhere in the
/// stack, counted once per sample) summed over the selected rows.
public struct TopType: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var function: ByteString
        public var selfValue: Int64
        public var totalValue: Int64
    }

    public var profileType: ByteString
    /// Sum of all sample values of this type.
    public var total: Int64
    /// Ranked by self (or total), ties by name; at most `limit`.
    public var entries: [Entry]
}

public enum TopTable {
    /// Profile types in byte order. `dataset` restricts to one service dataset (throws if
    /// there is none at that position); `typeFilter` keeps types whose ID contains it.
    public static func compute(_ verified: VerifiedSegmentObject, dataset: Int? = nil, typeFilter: String? = nil,
                               limit: Int = 20, byTotal: Bool = false) throws -> [TopType] {
        if let dataset, !verified.datasets.contains(where: { $0.layout.position == dataset && $0.layout.format == .services }) {
            throw SegmentToolError("no service dataset \(dataset)")
        }
        var weights: [ByteString: [ByteString: (selfValue: Int64, totalValue: Int64)]] = [:]
        var sums: [ByteString: Int64] = [:]
        var stack: [UInt32] = []
        for d in verified.datasets where dataset == nil || d.layout.position == dataset {
            guard let rows = ProfileRows(d) else { continue }
            let c = rows.columns
            for r in 0 ..< c.rowCount {
                let type = rows.profileType(r)
                if let typeFilter, !type.description.contains(typeFilter) { continue }
                guard let partition = rows.partition(r) else { continue }
                var w = weights[type, default: [:]]
                for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                    guard (try? partition.resolveStack(UInt32(truncatingIfNeeded: c.sampleStacktraceIDs[s]), into: &stack)) != nil else { continue }
                    let value = c.sampleValues[s]
                    sums[type, default: 0] &+= value
                    let frames = stack.flatMap { ProfileRows.frames(partition, location: $0) }
                    if let leaf = frames.first { w[leaf, default: (0, 0)].selfValue &+= value }
                    for name in Set(frames) { w[name, default: (0, 0)].totalValue &+= value }
                }
                weights[type] = w
            }
        }
        return weights.keys.sorted().map { type in
            let ranked = weights[type]!.map { TopType.Entry(function: $0.key, selfValue: $0.value.selfValue, totalValue: $0.value.totalValue) }
                .sorted { a, b in
                    let (x, y) = byTotal ? (a.totalValue, b.totalValue) : (a.selfValue, b.selfValue)
                    return x != y ? x > y : a.function < b.function
                }
            return TopType(profileType: type, total: sums[type] ?? 0, entries: Array(ranked.prefix(limit)))
        }
    }

    /// The table `top` prints.
    public static func text(_ types: [TopType]) -> String {
        var out = ""
        for t in types {
            out += "\(t.profileType)  (total \(t.total))\n"
            out += pad("self", 14) + pad("self%", 8) + pad("total", 14) + pad("total%", 8) + "  function\n"
            for e in t.entries {
                out += pad("\(e.selfValue)", 14) + pad(percent(e.selfValue, t.total), 8)
                    + pad("\(e.totalValue)", 14) + pad(percent(e.totalValue, t.total), 8) + "  \(e.function)\n"
            }
            out += "\n"
        }
        return out
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    private static func percent(_ v: Int64, _ total: Int64) -> String {
        guard total != 0 else { return "-" }
        let tenths = Int((Double(v) / Double(total) * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
