import BinaryCoding

/// A `segmentwriter.v1.PushRequest` as plain values (ingest-and-ops.md §1.2), for the cold
/// paths: tests, load generators, a distributor stand-in.
public struct PushRequestMessage: Equatable, Sendable {
    public var tenantID: ByteString
    public var labels: [(name: ByteString, value: ByteString)]
    public var profile: [UInt8]
    public var profileID: [UInt8]
    public var shard: UInt32
    public var annotations: [(key: ByteString, value: ByteString)]

    public init(tenantID: ByteString, labels: [(name: ByteString, value: ByteString)] = [], profile: [UInt8],
                profileID: [UInt8], shard: UInt32 = 0, annotations: [(key: ByteString, value: ByteString)] = []) {
        self.tenantID = tenantID
        self.labels = labels
        self.profile = profile
        self.profileID = profileID
        self.shard = shard
        self.annotations = annotations
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.tenantID == b.tenantID && a.profile == b.profile && a.profileID == b.profileID && a.shard == b.shard
            && a.labels.map(\.name) == b.labels.map(\.name) && a.labels.map(\.value) == b.labels.map(\.value)
            && a.annotations.map(\.key) == b.annotations.map(\.key)
            && a.annotations.map(\.value) == b.annotations.map(\.value)
    }

    /// Field order and proto3 zero omission as Go's marshaller produces them (§1.7).
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        if !tenantID.isEmpty { w.appendBytesField(1, tenantID.bytes) }
        for l in labels { w.appendMessageField(2) { Self.pair(&$0, l.name, l.value) } }
        if !profile.isEmpty { w.appendBytesField(4, profile) }
        if !profileID.isEmpty { w.appendBytesField(5, profileID) }
        if shard != 0 { w.appendVarintField(6, UInt64(shard)) }
        for a in annotations { w.appendMessageField(7) { Self.pair(&$0, a.key, a.value) } }
        return w.bytes
    }

    private static func pair(_ w: inout ByteWriter, _ name: ByteString, _ value: ByteString) {
        if !name.isEmpty { w.appendBytesField(1, name.bytes) }
        if !value.isEmpty { w.appendBytesField(2, value.bytes) }
    }
}
