import Arena
import BinaryCoding
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Many label sets stored back to back in a `ColumnArena`: one byte column, one pair column,
/// and per set a range of pairs. Appending copies bytes; `reset` keeps the room (see
/// `ArenaColumn.reset()`).
struct LabelSetArena {
    private(set) var bytes: ArenaColumn<UInt8>
    private(set) var pairs: ArenaColumn<LabelRef>
    private var setStart: ArenaColumn<UInt32>
    private var setCount: ArenaColumn<UInt32>

    init(in arena: ColumnArena) {
        bytes = ArenaColumn(in: arena)
        pairs = ArenaColumn(in: arena)
        setStart = ArenaColumn(in: arena)
        setCount = ArenaColumn(in: arena)
    }

    var count: Int { setStart.count }
    var byteCount: Int { bytes.byteCount + pairs.byteCount + setStart.byteCount + setCount.byteCount }
    var reservedBytes: Int { bytes.reservedBytes + pairs.reservedBytes + setStart.reservedBytes + setCount.reservedBytes }

    mutating func reset() {
        bytes.reset()
        pairs.reset()
        setStart.reset()
        setCount.reset()
    }

    /// Bytes that appending `sets` sets of `pairCount` pairs and `byteCount` label bytes in all
    /// may take from the arena (an upper bound: each column grows at most once for them).
    func bytesToAppend(sets: Int, pairCount: Int, byteCount: Int) -> Int {
        bytes.bytesToReserve(additional: byteCount) + pairs.bytesToReserve(additional: pairCount)
            + setStart.bytesToReserve(additional: sets) + setCount.bytesToReserve(additional: sets)
    }

    /// What `append(b)` may take from the arena.
    func bytesToAppend(_ b: LabelBuilder) -> Int {
        bytesToAppend(sets: 1, pairCount: b.pairs.count, byteCount: b.byteCount)
    }

    /// Appends the builder's pairs as a new set; returns its number. The caller made sure
    /// the arena has `bytesToAppend(b)` left.
    @discardableResult
    mutating func append(_ b: LabelBuilder) -> Int {
        precondition(bytes.count + b.byteCount <= Int(UInt32.max), "label set bytes overflow u32 offsets")
        setStart.append(UInt32(pairs.count))
        setCount.append(UInt32(b.pairs.count))
        bytes.reserve(additional: b.byteCount)
        pairs.reserve(additional: b.pairs.count)
        b.bytes.withUnsafeBufferPointer { source in
            for p in b.pairs {
                let ns = UInt32(bytes.count)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[p.name]))
                let vs = UInt32(bytes.count)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[p.value]))
                pairs.append(LabelRef(nameStart: ns, nameCount: p.nameCount, valueStart: vs, valueCount: p.valueCount))
            }
        }
        return setStart.count - 1
    }

    func pairRange(_ set: Int) -> Range<Int> { Int(setStart[set]) ..< Int(setStart[set] + setCount[set]) }

    /// Bytes of the names and values of set `set`.
    func byteCount(ofSet set: Int) -> Int {
        pairRange(set).reduce(0) { $0 + Int(pairs[$1].nameCount + pairs[$1].valueCount) }
    }

    private func bytes(_ r: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes.base + r.lowerBound, count: r.count)
    }

    /// True when set `set` has exactly the builder's pairs, in order.
    func equals(_ set: Int, _ b: LabelBuilder) -> Bool {
        let r = pairRange(set)
        guard r.count == b.pairs.count else { return false }
        return b.bytes.withUnsafeBytes { other in
            for (k, i) in r.enumerated() {
                let x = pairs[i], y = b.pairs[k]
                if !equalBytes(bytes(x.name), UnsafeRawBufferPointer(rebasing: other[y.name]))
                    || !equalBytes(bytes(x.value), UnsafeRawBufferPointer(rebasing: other[y.value])) { return false }
            }
            return true
        }
    }

    /// `CompareLabelPairs` (profiles-parquet.md §2.6): pair by pair, name then value,
    /// byte-wise; a prefix sorts first.
    func compare(_ a: Int, _ b: Int) -> Int {
        let ra = pairRange(a), rb = pairRange(b)
        for k in 0 ..< min(ra.count, rb.count) {
            let x = pairs[ra.lowerBound + k], y = pairs[rb.lowerBound + k]
            var c = compareBytes(bytes(x.name), bytes(y.name))
            if c != 0 { return c }
            c = compareBytes(bytes(x.value), bytes(y.value))
            if c != 0 { return c }
        }
        return ra.count == rb.count ? 0 : (ra.count < rb.count ? -1 : 1)
    }

    /// The value of the first pair of set `set` named `name`, nil when it has none.
    func value(named name: StaticString, inSet set: Int) -> UnsafeRawBufferPointer? {
        for i in pairRange(set) where equalsStatic(bytes(pairs[i].name), name) { return bytes(pairs[i].value) }
        return nil
    }

    func name(_ pair: Int) -> ByteString { ByteString(Array(bytes(pairs[pair].name))) }
    func value(_ pair: Int) -> ByteString { ByteString(Array(bytes(pairs[pair].value))) }

    /// Copies set `set` into a builder (for re-use as a base).
    func load(_ set: Int, into b: inout LabelBuilder) {
        b.reset()
        for i in pairRange(set) {
            b.append(name: bytes(pairs[i].name), value: bytes(pairs[i].value))
        }
    }

    private func equalBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }
}
