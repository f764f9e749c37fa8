import BinaryCoding

/// One instance of a ring as another member holds it (`ring.InstanceDesc`, read back): what
/// upstream's readiness check looks at.
public struct RingInstance: Sendable, Equatable {
    public var id: String
    public var addr: String
    /// Last heartbeat, unix seconds.
    public var timestamp: Int64
    /// `InstanceState` (0 ACTIVE, 1 LEAVING, 2 PENDING, 3 JOINING, 4 LEFT).
    public var state: UInt64
    public var tokenCount: Int

    /// The tombstone state of an entry removed from the ring.
    static let left: UInt64 = 4

    public init(id: String, addr: String, timestamp: Int64, state: UInt64, tokenCount: Int) {
        self.id = id
        self.addr = addr
        self.timestamp = timestamp
        self.state = state
        self.tokenCount = tokenCount
    }

    /// What a member holds of `desc` once it merged it.
    public init(_ desc: InstanceDesc) {
        self.init(id: desc.id, addr: desc.addr, timestamp: desc.timestamp, state: desc.state.rawValue,
                  tokenCount: desc.tokens.count)
    }

    /// `ring` with `own` merged in as dskit's KV merges an entry: it replaces the entry of its
    /// id when its heartbeat is newer, and is added when the ring has none. A member replies
    /// with the ring it held before merging the heartbeat it answers; merged, the ring is what
    /// the writer's own lifecycler would read from its local KV right after the heartbeat.
    public static func merging(_ own: RingInstance, into ring: [RingInstance]) -> [RingInstance] {
        guard let i = ring.firstIndex(where: { $0.id == own.id }) else { return ring + [own] }
        var merged = ring
        if own.timestamp > ring[i].timestamp { merged[i] = own }
        return merged
    }

    /// The state as dskit prints it.
    public var stateName: String {
        switch state {
        case 0: "ACTIVE"
        case 1: "LEAVING"
        case 2: "PENDING"
        case 3: "JOINING"
        case 4: "LEFT"
        default: String(state)
        }
    }

    /// The instances of a `ring.Desc` protobuf (`map<string, InstanceDesc> ingesters = 1`), in
    /// wire order.
    static func ringDesc(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> [RingInstance] {
        var r = ProtobufReader(bytes)
        var instances: [RingInstance] = []
        while let (field, wire) = try r.nextField() {
            guard field == 1, wire == .lengthDelimited else { try r.skip(wire); continue }
            var entry = ProtobufReader(try r.readLengthDelimited())
            var id = "", instance = RingInstance(id: "", addr: "", timestamp: 0, state: 0, tokenCount: 0)
            while let (f, w) = try entry.nextField() {
                switch (f, w) {
                case (1, .lengthDelimited): id = String(decoding: try entry.readLengthDelimited(), as: UTF8.self)
                case (2, .lengthDelimited): instance = try fields(try entry.readLengthDelimited())
                default: try entry.skip(w)
                }
            }
            instance.id = id
            instances.append(instance)
        }
        return instances
    }

    private static func fields(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> RingInstance {
        var r = ProtobufReader(bytes)
        var instance = RingInstance(id: "", addr: "", timestamp: 0, state: 0, tokenCount: 0)
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, .lengthDelimited): instance.addr = String(decoding: try r.readLengthDelimited(), as: UTF8.self)
            case (2, .varint): instance.timestamp = Int64(bitPattern: try r.readVarint())
            case (3, .varint): instance.state = try r.readVarint()
            case (6, .varint), (6, .lengthDelimited): try r.readRepeatedVarint(wire) { _ in instance.tokenCount += 1 }
            default: try r.skip(wire)
            }
        }
        return instance
    }
}
