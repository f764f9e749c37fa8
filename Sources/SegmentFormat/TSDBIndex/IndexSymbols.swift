import BinaryCoding

/// The symbol table of one index, collected in a single pass over every label
/// (tsdb-index.md §3.1: the sorted, deduplicated union of all names and values).
struct IndexSymbols {
    /// Symbols in byte order; a symbol ref is an index into this array.
    var sorted: [ByteString]
    /// Two refs (name, value) per label, for every series in write order.
    var labelRefs: [UInt32]

    init(_ groups: [IndexSeriesGroup]) {
        var labelCount = 0
        for group in groups {
            for series in group.series { labelCount += series.labels.count }
        }
        var ids: [SymbolKey: UInt32] = [:]
        var firstSeen: [ByteString] = []
        var refs: [UInt32] = []
        refs.reserveCapacity(2 * labelCount)
        for group in groups {
            for series in group.series {
                for label in series.labels {
                    refs.append(Self.intern(label.name, &ids, &firstSeen))
                    refs.append(Self.intern(label.value, &ids, &firstSeen))
                }
            }
        }
        precondition(firstSeen.count <= Int(UInt32.max), "more symbols than a uint32 ref can name")
        // Sort once, then rewrite the provisional ids into final refs.
        var order = [UInt32](0 ..< UInt32(firstSeen.count))
        order.sort { bytewiseLess(firstSeen[Int($0)], firstSeen[Int($1)]) }
        var finalRef = [UInt32](repeating: 0, count: order.count)
        for (ref, provisional) in order.enumerated() { finalRef[Int(provisional)] = UInt32(ref) }
        for i in refs.indices { refs[i] = finalRef[Int(refs[i])] }
        sorted = order.map { firstSeen[Int($0)] }
        labelRefs = refs
    }

    private static func intern(_ s: ByteString, _ ids: inout [SymbolKey: UInt32], _ firstSeen: inout [ByteString]) -> UInt32 {
        if let id = ids[SymbolKey(s)] { return id }
        let id = UInt32(truncatingIfNeeded: firstSeen.count)
        ids[SymbolKey(s)] = id
        firstSeen.append(s)
        return id
    }
}

/// A dictionary key hashing a symbol's bytes in one call (the synthesized `Hashable` of
/// `[UInt8]` feeds the hasher byte by byte).
struct SymbolKey: Hashable {
    let symbol: ByteString

    init(_ symbol: ByteString) { self.symbol = symbol }

    func hash(into hasher: inout Hasher) {
        symbol.bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: SymbolKey, b: SymbolKey) -> Bool { a.symbol.bytes == b.symbol.bytes }
}

/// Go string order (§2), over contiguous storage.
func bytewiseLess(_ a: ByteString, _ b: ByteString) -> Bool {
    a.bytes.withUnsafeBufferPointer { x in
        b.bytes.withUnsafeBufferPointer { y in
            let n = min(x.count, y.count)
            var i = 0
            while i < n {
                if x[i] != y[i] { return x[i] < y[i] }
                i += 1
            }
            return x.count < y.count
        }
    }
}
