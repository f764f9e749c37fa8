import BinaryCoding

/// One `name=value` pair of a dataset label set.
public struct LabelPair: Hashable, Sendable {
    public var name: ByteString
    public var value: ByteString

    public init(_ name: ByteString, _ value: ByteString) {
        self.name = name
        self.value = value
    }
}

/// `Dataset.labels` (segment-object.md §6.2): concatenated sets `n, k1, v1, …, kn, vn`
/// of string-table indices.
public enum DatasetLabels {
    public static let serviceName: ByteString = "service_name"
    public static let profileType: ByteString = "__profile_type__"
    public static let unsymbolized: ByteString = "__unsymbolized__"
    public static let tenantDataset: ByteString = "__tenant_dataset__"
    public static let datasetTSDBIndex: ByteString = "dataset_tsdb_index"

    /// Interns the pairs set by set, pair by pair (name before value), as `LabelBuilder` does.
    public static func encode(_ sets: [[LabelPair]], into table: inout StringTable) -> [Int32] {
        var out: [Int32] = []
        for set in sets {
            out.append(Int32(set.count))
            for pair in set {
                out.append(table.put(pair.name))
                out.append(table.put(pair.value))
            }
        }
        return out
    }

    /// A Format0 dataset's sets (§6.2): one per profile type (sorted byte-wise), then
    /// `__unsymbolized__=true` if any location's mapping lacks function info.
    public static func serviceSets(service: ByteString, profileTypes: [ByteString], unsymbolized: Bool) -> [[LabelPair]] {
        var sets = profileTypes.sorted().map { [LabelPair(serviceName, service), LabelPair(profileType, $0)] }
        if unsymbolized { sets.append([LabelPair(serviceName, service), LabelPair(Self.unsymbolized, "true")]) }
        return sets
    }

    /// The one set of a Format1 dataset (§5.2).
    public static let tenantIndexSets: [[LabelPair]] = [[LabelPair(tenantDataset, datasetTSDBIndex)]]

    /// Resolves the sets. A negative count, a set overrunning the array or an index outside
    /// the string table is malformed; the error offset is the element position.
    public static func decode(_ labels: [Int32], strings: [ByteString]) throws(DecodeError) -> [[LabelPair]] {
        var sets: [[LabelPair]] = []
        var i = 0
        while i < labels.count {
            let n = Int(labels[i])
            guard n >= 0, n <= (labels.count - i - 1) / 2 else {
                throw DecodeError(.malformed, at: i, "label set of \(n) pairs overruns the \(labels.count) labels")
            }
            var set: [LabelPair] = []
            set.reserveCapacity(n)
            for k in 0 ..< n {
                let at = i + 1 + 2 * k
                set.append(LabelPair(try lookup(labels[at], strings, at), try lookup(labels[at + 1], strings, at + 1)))
            }
            sets.append(set)
            i += 1 + 2 * n
        }
        return sets
    }

    private static func lookup(_ index: Int32, _ strings: [ByteString], _ at: Int) throws(DecodeError) -> ByteString {
        guard index >= 0, Int(index) < strings.count else {
            throw DecodeError(.malformed, at: at, "string index \(index) outside the table of \(strings.count)")
        }
        return strings[Int(index)]
    }
}
