import BinaryCoding

/// One instance of a dskit ring as `ring.proto` declares it (ingest-and-ops.md §3.7): what a
/// segment writer publishes so distributors can find it and count its shards.
public struct InstanceDesc: Sendable, Equatable {
    /// `InstanceState`; distributors take ACTIVE, LEAVING, PENDING and JOINING instances whose
    /// heartbeat is fresh (§3.2), LEFT is a tombstone.
    public enum State: UInt64, Sendable {
        case active = 0, leaving = 1, pending = 2, joining = 3, left = 4
    }

    public var id: String
    /// `ip:port` of the gRPC server.
    public var addr: String
    /// Last heartbeat, unix seconds; a merge keeps the entry with the larger one.
    public var timestamp: Int64
    public var state: State
    /// Sorted, unique. Only their count matters to segment-writer placement (§3.2).
    public var tokens: [UInt32]
    public var zone: String
    public var registeredTimestamp: Int64

    public init(id: String, addr: String, timestamp: Int64, state: State, tokens: [UInt32], zone: String = "",
                registeredTimestamp: Int64) {
        precondition(zip(tokens, tokens.dropFirst()).allSatisfy { $0 < $1 }, "ring tokens must be sorted and unique")
        self.id = id
        self.addr = addr
        self.timestamp = timestamp
        self.state = state
        self.tokens = tokens
        self.zone = zone
        self.registeredTimestamp = registeredTimestamp
    }

    /// `ring.Desc{ingesters: {id: self}}` in protobuf (proto3: zero values left out), the
    /// partial ring a dskit merge folds into everyone's copy.
    public func ringDescBytes() -> [UInt8] {
        var w = ByteWriter()
        w.appendMessageField(1) { entry in
            entry.appendStringField(1, id)
            entry.appendMessageField(2) { appendFields(to: &$0) }
        }
        return w.bytes
    }

    private func appendFields(to w: inout ByteWriter) {
        if !addr.isEmpty { w.appendStringField(1, addr) }
        if timestamp != 0 { w.appendInt64Field(2, timestamp) }
        if state != .active { w.appendVarintField(3, state.rawValue) }
        w.appendPackedVarints(6, tokens.lazy.map { UInt64($0) })
        if !zone.isEmpty { w.appendStringField(7, zone) }
        if registeredTimestamp != 0 { w.appendInt64Field(8, registeredTimestamp) }
        if !id.isEmpty { w.appendStringField(9, id) }
    }
}
