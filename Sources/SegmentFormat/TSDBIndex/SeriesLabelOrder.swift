import BinaryCoding

/// HEAD memdb's label and series order (tsdb-index.md §7).
public enum SeriesLabelOrder {
    public static let profileTypeName: ByteString = "__profile_type__"
    public static let serviceNamePrivateName: ByteString = "__service_name__"

    /// `LabelsEnforcedOrder`: `__profile_type__` first, `__service_name__` second, every other
    /// label by name bytes. Names are unique in a series, so this is a strict total order.
    public static func enforce(_ labels: [SeriesLabel]) -> [SeriesLabel] {
        labels.sorted(by: enforcedPrecedes)
    }

    @inlinable
    public static func enforcedPrecedes(_ a: SeriesLabel, _ b: SeriesLabel) -> Bool {
        let rankA = rank(a.name)
        let rankB = rank(b.name)
        if rankA != rankB { return rankA < rankB }
        return a.name < b.name
    }

    @usableFromInline
    static func rank(_ name: ByteString) -> Int {
        if name == profileTypeName { return 0 }
        if name == serviceNamePrivateName { return 1 }
        return 2
    }

    /// `CompareLabelPairs`: pair by pair, name then value, byte-wise; a prefix sorts first.
    public static func compareLabelPairs(_ a: [SeriesLabel], _ b: [SeriesLabel]) -> Int {
        for i in 0 ..< min(a.count, b.count) {
            if a[i].name != b[i].name { return a[i].name < b[i].name ? -1 : 1 }
            if a[i].value != b[i].value { return a[i].value < b[i].value ? -1 : 1 }
        }
        return a.count - b.count
    }

    /// Series in index order: sorted by `CompareLabelPairs` of their stored labels.
    public static func sortSeries(_ series: inout [IndexSeries]) {
        series.sort { compareLabelPairs($0.labels, $1.labels) < 0 }
    }

    /// HEAD memdb's `index.tsdb` contents for distinct series given as (labels in any order,
    /// min and max profile time in ns): labels enforced, fingerprints computed, series sorted
    /// by `CompareLabelPairs`, one chunk each with `SeriesIndex` = sort position (§7).
    public static func headIndex(_ input: [(labels: [SeriesLabel], minTime: Int64, maxTime: Int64)]) -> TSDBIndexContents {
        var series = input.map { entry -> IndexSeries in
            let labels = enforce(entry.labels)
            return IndexSeries(
                labels: labels, fingerprint: SeriesFingerprint.of(labels),
                chunks: [ChunkMeta(minTime: entry.minTime, maxTime: entry.maxTime, seriesIndex: 0)])
        }
        sortSeries(&series)
        for i in series.indices { series[i].chunks[0].seriesIndex = UInt32(i) }
        return TSDBIndexContents(series: series)
    }
}
