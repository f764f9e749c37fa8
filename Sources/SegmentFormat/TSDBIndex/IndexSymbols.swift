import BinaryCoding
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The symbol table of one index, collected in a single pass over every label
/// (tsdb-index.md §3.1: the sorted, deduplicated union of all names and values).
/// Symbols are interned from the series' byte buffers into one buffer of their own through an
/// open-addressing table: no allocation per label or symbol (a flush may hold 10⁵ series).
struct IndexSymbols {
    /// Every distinct symbol's bytes, in first-seen order.
    private var bytes: [UInt8] = []
    /// Per first-seen symbol, its end in `bytes` (it starts at the previous end).
    private var ends: [UInt32] = []
    /// Ref (byte order) → first-seen id.
    private var sortedIDs: [UInt32] = []
    /// Two refs (name, value) per label, for every series in write order.
    private(set) var labelRefs: [UInt32] = []

    init(_ groups: [IndexSeriesGroup]) {
        let labelCount = groups.reduce(0) { $0 + $1.series.labels.count }
        labelRefs.reserveCapacity(2 * labelCount)
        var table = SymbolTable()
        for group in groups {
            let s = group.series
            s.bytes.withUnsafeBytes { source in
                for label in s.labels {
                    labelRefs.append(intern(source, label.nameStart, label.nameCount, &table))
                    labelRefs.append(intern(source, label.valueStart, label.valueCount, &table))
                }
            }
        }
        sortedIDs = sortedByBytes()
        // Rewrite the provisional (first-seen) ids into final refs.
        var finalRef = [UInt32](repeating: 0, count: sortedIDs.count)
        for (ref, id) in sortedIDs.enumerated() { finalRef[Int(id)] = UInt32(ref) }
        for i in labelRefs.indices { labelRefs[i] = finalRef[Int(labelRefs[i])] }
    }

    var count: Int { sortedIDs.count }

    /// The bytes of the symbol with ref `ref`.
    func symbol(_ ref: UInt32) -> ArraySlice<UInt8> { bytes[range(of: sortedIDs[Int(ref)])] }

    private func range(of id: UInt32) -> Range<Int> {
        (id == 0 ? 0 : Int(ends[Int(id) - 1])) ..< Int(ends[Int(id)])
    }

    private mutating func intern(_ source: UnsafeRawBufferPointer, _ start: UInt32, _ count: UInt32,
                                 _ table: inout SymbolTable) -> UInt32 {
        let symbol = UnsafeRawBufferPointer(rebasing: source[Int(start) ..< Int(start + count)])
        let hash = XXH64.hash(symbol)
        let found: UInt32? = bytes.withUnsafeBytes { stored in
            table.find(hash) { id in
                let r = range(of: id)
                return r.count == symbol.count && (r.isEmpty || memcmp(stored.baseAddress! + r.lowerBound, symbol.baseAddress!, r.count) == 0)
            }
        }
        if let id = found { return id }
        precondition(ends.count < Int(UInt32.max), "more symbols than a uint32 ref can name")
        let id = UInt32(truncatingIfNeeded: ends.count)
        bytes.append(contentsOf: symbol)
        precondition(bytes.count <= Int(UInt32.max), "symbols past 4 GiB")
        ends.append(UInt32(bytes.count))
        table.insert(id, hash: hash)
        return id
    }

    /// First-seen ids in Go string order: by the first 8 bytes as a big-endian word (zero
    /// padded), the whole bytes compared only when those are equal.
    private func sortedByBytes() -> [UInt32] {
        bytes.withUnsafeBytes { stored in
            var prefixes = [UInt64](repeating: 0, count: ends.count)
            for id in 0 ..< ends.count {
                let r = range(of: UInt32(id))
                var p: UInt64 = 0
                for k in 0 ..< 8 { p = p << 8 | UInt64(k < r.count ? stored[r.lowerBound + k] : 0) }
                prefixes[id] = p
            }
            var order = [UInt32](0 ..< UInt32(ends.count))
            order.sort { a, b in
                let (pa, pb) = (prefixes[Int(a)], prefixes[Int(b)])
                if pa != pb { return pa < pb }
                let (ra, rb) = (range(of: a), range(of: b))
                let n = min(ra.count, rb.count)
                let c = n == 0 ? 0 : memcmp(stored.baseAddress! + ra.lowerBound, stored.baseAddress! + rb.lowerBound, n)
                return c != 0 ? c < 0 : ra.count < rb.count
            }
            return order
        }
    }
}

/// Open addressing over first-seen symbol ids: 8-byte slots of (32 hash bits, id + 1), load ≤ ½.
private struct SymbolTable {
    private var slots = [UInt64](repeating: 0, count: 1024)
    private var used = 0

    /// The id whose slot carries `hash`'s bits and for which `matches` holds, if any.
    func find(_ hash: UInt64, _ matches: (UInt32) -> Bool) -> UInt32? {
        let mask = slots.count - 1
        var i = Self.home(hash, mask)
        while slots[i] != 0 {
            if slots[i] >> 32 == hash >> 32, matches(UInt32(truncatingIfNeeded: slots[i]) - 1) {
                return UInt32(truncatingIfNeeded: slots[i]) - 1
            }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Adds `id` (not present) under `hash`.
    mutating func insert(_ id: UInt32, hash: UInt64) {
        if 2 * (used + 1) > slots.count { grow() }
        place(hash & 0xFFFF_FFFF_0000_0000 | UInt64(id + 1), hash: hash)
        used += 1
    }

    private mutating func place(_ slot: UInt64, hash: UInt64) {
        let mask = slots.count - 1
        var i = Self.home(hash, mask)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    /// A slot keeps only the high 32 bits of its hash, so the first probe is taken from those:
    /// growing can place a slot again from the slot alone.
    private static func home(_ hash: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: hash >> 32) & mask }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: 2 * old.count)
        for s in old where s != 0 { place(s, hash: s) }
    }
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
