/// The HPACK dynamic table (RFC 7541 §2.3.2, §4): newest entry has the lowest index.
struct HPACKDynamicTable {
    /// Entries oldest first, so insertion is an append; `entries[entries.count - 1]` is index 62.
    private(set) var entries: [HeaderField] = []
    private(set) var size = 0
    private(set) var maxSize: Int

    init(maxSize: Int) { self.maxSize = maxSize }

    var count: Int { entries.count }

    /// Entry by dynamic index (0 = newest).
    subscript(newestFirst i: Int) -> HeaderField { entries[entries.count - 1 - i] }

    /// §4.4: evicts until the new entry fits; an entry larger than the table empties it.
    mutating func insert(_ field: HeaderField) {
        evict(toFit: field.hpackSize)
        if field.hpackSize <= maxSize {
            entries.append(field)
            size += field.hpackSize
        }
    }

    /// §4.3: a smaller maximum evicts immediately.
    mutating func setMaxSize(_ newMax: Int) {
        maxSize = newMax
        evict(toFit: 0)
    }

    private mutating func evict(toFit incoming: Int) {
        var drop = 0
        while drop < entries.count && size + incoming > maxSize {
            size -= entries[drop].hpackSize
            drop += 1
        }
        if drop > 0 { entries.removeFirst(drop) }
    }

    /// Dynamic index (0 = newest) of an exact match and of a name match.
    func find(_ field: HeaderField) -> (exact: Int?, name: Int?) {
        var nameMatch: Int?
        for i in 0..<entries.count {
            let e = self[newestFirst: i]
            guard e.name == field.name else { continue }
            if e.value == field.value { return (i, i) }
            if nameMatch == nil { nameMatch = i }
        }
        return (nil, nameMatch)
    }
}
