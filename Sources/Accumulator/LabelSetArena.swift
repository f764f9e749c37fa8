import BinaryCoding

/// Many label sets stored back to back: one byte buffer, one pair column, and per set a
/// range of pairs. Appending copies bytes; `reset` keeps capacity.
struct LabelSetArena {
    private(set) var bytes: [UInt8] = []
    private(set) var pairs: [LabelRef] = []
    private(set) var setStart: [UInt32] = []
    private(set) var setCount: [UInt32] = []

    var count: Int { setStart.count }
    var byteCount: Int { bytes.count + pairs.count * MemoryLayout<LabelRef>.stride + setStart.count * 8 }

    var reservedBytes: Int { bytes.capacity + pairs.capacity * MemoryLayout<LabelRef>.stride + setStart.capacity * 8 }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        pairs.removeAll(keepingCapacity: true)
        setStart.removeAll(keepingCapacity: true)
        setCount.removeAll(keepingCapacity: true)
    }

    /// Appends the builder's pairs as a new set; returns its number.
    @discardableResult
    mutating func append(_ b: LabelBuilder) -> Int {
        setStart.append(UInt32(pairs.count))
        setCount.append(UInt32(b.pairs.count))
        for p in b.pairs {
            let ns = UInt32(bytes.count)
            bytes.append(contentsOf: b.bytes[p.name])
            let vs = UInt32(bytes.count)
            bytes.append(contentsOf: b.bytes[p.value])
            pairs.append(LabelRef(nameStart: ns, nameCount: p.nameCount, valueStart: vs, valueCount: p.valueCount))
        }
        return setStart.count - 1
    }

    func pairRange(_ set: Int) -> Range<Int> { Int(setStart[set]) ..< Int(setStart[set] + setCount[set]) }

    /// True when set `set` has exactly the builder's pairs, in order.
    func equals(_ set: Int, _ b: LabelBuilder) -> Bool {
        let r = pairRange(set)
        guard r.count == b.pairs.count else { return false }
        for (k, i) in r.enumerated() {
            let x = pairs[i], y = b.pairs[k]
            if !bytes[x.name].elementsEqual(b.bytes[y.name]) || !bytes[x.value].elementsEqual(b.bytes[y.value]) { return false }
        }
        return true
    }

    /// `CompareLabelPairs` (profiles-parquet.md §2.6): pair by pair, name then value,
    /// byte-wise; a prefix sorts first.
    func compare(_ a: Int, _ b: Int) -> Int {
        let ra = pairRange(a), rb = pairRange(b)
        return bytes.withUnsafeBytes { buf in
            for k in 0 ..< min(ra.count, rb.count) {
                let x = pairs[ra.lowerBound + k], y = pairs[rb.lowerBound + k]
                var c = compareBytes(UnsafeRawBufferPointer(rebasing: buf[x.name]), UnsafeRawBufferPointer(rebasing: buf[y.name]))
                if c != 0 { return c }
                c = compareBytes(UnsafeRawBufferPointer(rebasing: buf[x.value]), UnsafeRawBufferPointer(rebasing: buf[y.value]))
                if c != 0 { return c }
            }
            return ra.count == rb.count ? 0 : (ra.count < rb.count ? -1 : 1)
        }
    }

    func name(_ pair: Int) -> ByteString { ByteString(Array(bytes[pairs[pair].name])) }
    func value(_ pair: Int) -> ByteString { ByteString(Array(bytes[pairs[pair].value])) }

    /// Copies set `set` into a builder (for re-use as a base).
    func load(_ set: Int, into b: inout LabelBuilder) {
        b.reset()
        bytes.withUnsafeBytes { buf in
            for i in pairRange(set) {
                b.append(name: UnsafeRawBufferPointer(rebasing: buf[pairs[i].name]),
                         value: UnsafeRawBufferPointer(rebasing: buf[pairs[i].value]))
            }
        }
    }
}
