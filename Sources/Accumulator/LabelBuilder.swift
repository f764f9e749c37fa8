import BinaryCoding

/// One label pair as two byte ranges into the owning buffer.
struct LabelRef {
    var nameStart: UInt32
    var nameCount: UInt32
    var valueStart: UInt32
    var valueCount: UInt32

    var name: Range<Int> { Int(nameStart) ..< Int(nameStart + nameCount) }
    var value: Range<Int> { Int(valueStart) ..< Int(valueStart + valueCount) }
}

/// A label set under construction, in a reusable byte buffer (no allocation once warm).
/// `set` follows Pyroscope's `LabelsBuilder`: setting an empty value deletes the label, a
/// later set of the same name overrides (profiles-parquet.md §2.4).
struct LabelBuilder {
    private(set) var bytes: [UInt8] = []
    private(set) var pairs: [LabelRef] = []
    private var hashInput: [UInt8] = []

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        pairs.removeAll(keepingCapacity: true)
    }

    var count: Int { pairs.count }
    /// Bytes of the builder's buffer (at least those of its pairs: a replaced value stays behind).
    var byteCount: Int { bytes.count }

    /// Becomes a copy of `other`, reusing this builder's capacity.
    mutating func assign(_ other: LabelBuilder) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: other.bytes)
        pairs.removeAll(keepingCapacity: true)
        pairs.append(contentsOf: other.pairs)
    }

    private mutating func store(_ s: UnsafeRawBufferPointer) -> (UInt32, UInt32) {
        let start = UInt32(bytes.count)
        bytes.append(contentsOf: s)
        return (start, UInt32(s.count))
    }

    func find(_ name: UnsafeRawBufferPointer) -> Int? {
        for (i, p) in pairs.enumerated() where equal(p.name, name) { return i }
        return nil
    }

    /// The value of `name`, or an empty buffer when absent.
    func withValue<R>(of name: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let i = find(name) else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[pairs[i].value])) }
    }

    func withValue<R>(of name: StaticString, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        name.withUTF8Buffer { withValue(of: UnsafeRawBufferPointer($0), body) }
    }

    func hasNonEmptyValue(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let i = find(name) else { return false }
        return pairs[i].valueCount > 0
    }

    /// Appends a pair without any override logic (request labels as received).
    mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let (ns, nc) = store(name)
        let (vs, vc) = store(value)
        pairs.append(LabelRef(nameStart: ns, nameCount: nc, valueStart: vs, valueCount: vc))
    }

    /// Builder `Set`: an empty value deletes the label, otherwise it replaces or adds.
    mutating func set(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let existing = find(name)
        if value.isEmpty {
            if let i = existing { pairs.remove(at: i) }
            return
        }
        let (vs, vc) = store(value)
        if let i = existing {
            pairs[i].valueStart = vs
            pairs[i].valueCount = vc
        } else {
            let (ns, nc) = store(name)
            pairs.append(LabelRef(nameStart: ns, nameCount: nc, valueStart: vs, valueCount: vc))
        }
    }

    mutating func set(name: StaticString, value: UnsafeRawBufferPointer) {
        name.withUTF8Buffer { set(name: UnsafeRawBufferPointer($0), value: value) }
    }

    mutating func delete(_ name: StaticString) {
        name.withUTF8Buffer { n in
            if let i = find(UnsafeRawBufferPointer(n)) { pairs.remove(at: i) }
        }
    }

    /// `LabelsBuilder.Reset`: a base label with an empty value deletes its name, so every pair
    /// of a name that one pair leaves empty goes (`tag=""` then `tag="x"`: no `tag`). Request
    /// labels get this once, as the base every series' labels start from.
    mutating func removeNamesWithAnEmptyValue() {
        while let e = pairs.firstIndex(where: { $0.valueCount == 0 }) {
            let name = pairs[e].name
            pairs.removeAll { bytes[$0.name].elementsEqual(bytes[name]) }
        }
    }

    /// Drops pairs with an empty value (Pyroscope's builder output never carries them).
    mutating func removeEmptyValues() {
        pairs.removeAll { $0.valueCount == 0 }
    }

    /// Stable sort by name, byte-wise (`labels.Builder.Labels()` order).
    mutating func sortByName() {
        sortPairs(enforced: false)
    }

    /// `LabelsEnforcedOrder` (profiles-parquet.md §2.4): `__profile_type__` first,
    /// `__service_name__` second, the rest by name; then keep the first of equal names.
    mutating func sortEnforcedAndUnique() {
        sortPairs(enforced: true)
        var i = 1
        while i < pairs.count {
            if compare(pairs[i].name, pairs[i - 1].name) == 0 { pairs.remove(at: i) } else { i += 1 }
        }
    }

    /// Insertion sort: label sets are short and this allocates nothing.
    private mutating func sortPairs(enforced: Bool) {
        guard pairs.count > 1 else { return }
        var ps = pairs
        pairs = []
        bytes.withUnsafeBytes { buf in
            func rank(_ p: LabelRef) -> Int {
                guard enforced else { return 2 }
                let name = UnsafeRawBufferPointer(rebasing: buf[p.name])
                if equalsStatic(name, LabelNames.profileType) { return 0 }
                if equalsStatic(name, LabelNames.serviceNameDerived) { return 1 }
                return 2
            }
            func less(_ a: LabelRef, _ b: LabelRef) -> Bool {
                let ra = rank(a), rb = rank(b)
                if ra != rb { return ra < rb }
                return compareBytes(UnsafeRawBufferPointer(rebasing: buf[a.name]), UnsafeRawBufferPointer(rebasing: buf[b.name])) < 0
            }
            for i in 1 ..< ps.count {
                let x = ps[i]
                var j = i
                while j > 0 && less(x, ps[j - 1]) {
                    ps[j] = ps[j - 1]
                    j -= 1
                }
                ps[j] = x
            }
        }
        pairs = ps
    }

    /// `Labels.Hash`: XXH64 (seed 0) of `name ‖ 0xFF ‖ value ‖ 0xFF` per pair, in order.
    mutating func fingerprint() -> UInt64 {
        hashInput.removeAll(keepingCapacity: true)
        for p in pairs {
            hashInput.append(contentsOf: bytes[p.name])
            hashInput.append(0xFF)
            hashInput.append(contentsOf: bytes[p.value])
            hashInput.append(0xFF)
        }
        return hashInput.withUnsafeBytes { XXH64.hash($0) }
    }

    func compare(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        bytes.withUnsafeBytes { compareBytes(UnsafeRawBufferPointer(rebasing: $0[a]), UnsafeRawBufferPointer(rebasing: $0[b])) }
    }

    func equal(_ a: Range<Int>, _ s: UnsafeRawBufferPointer) -> Bool {
        a.count == s.count && bytes.withUnsafeBytes { compareBytes(UnsafeRawBufferPointer(rebasing: $0[a]), s) == 0 }
    }

    func equal(_ a: Range<Int>, _ s: StaticString) -> Bool {
        s.withUTF8Buffer { equal(a, UnsafeRawBufferPointer($0)) }
    }
}

/// Byte-wise three-way comparison (Go `bytes.Compare`).
@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    var i = 0
    while i < n {
        let x = a[i], y = b[i]
        if x != y { return x < y ? -1 : 1 }
        i += 1
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// Label names the head reads or derives (profiles-parquet.md §2.3–§2.4).
enum LabelNames {
    static let profileType: StaticString = "__profile_type__"
    static let serviceNameDerived: StaticString = "__service_name__"
    static let serviceName: StaticString = "service_name"
    static let name: StaticString = "__name__"
    static let periodType: StaticString = "__period_type__"
    static let periodUnit: StaticString = "__period_unit__"
    static let type: StaticString = "__type__"
    static let unit: StaticString = "__unit__"
    static let delta: StaticString = "__delta__"
    static let order: StaticString = "__order__"
    static let spanID: StaticString = "span_id"
    static let traceID: StaticString = "trace_id"
    static let profileID: StaticString = "profile_id"
}
