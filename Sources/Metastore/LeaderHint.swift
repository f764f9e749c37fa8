import BinaryCoding

/// `raft_node.RaftNode{1: id, 2: address}`: the leader a metastore follower names in the
/// details of its UNAVAILABLE answer (segment-object.md §11.2).
public struct RaftNodeHint: Hashable, Sendable {
    public var id: String
    public var address: String

    public init(id: String, address: String) {
        self.id = id
        self.address = address
    }
}

/// Decoding of `grpc-status-details-bin`: base64 (padded or not, as gRPC allows) of a
/// `google.rpc.Status{1: code, 2: message, 3: repeated google.protobuf.Any details}`, each
/// `Any{1: type_url, 2: value}`.
public enum StatusDetails {
    public static let headerName: ByteString = "grpc-status-details-bin"
    public static let raftNodeTypeURL: ByteString = "type.googleapis.com/raft_node.RaftNode"

    /// The leader named in a status-details header value; nil when absent or undecodable.
    public static func raftLeader(headerValue: ByteString) -> RaftNodeHint? {
        guard let status = base64Decode(headerValue.bytes) else { return nil }
        return try? status.withUnsafeBytes { raw throws(DecodeError) in try raftLeader(status: raw) }
    }

    /// The first `RaftNode` among a `google.rpc.Status`'s details.
    public static func raftLeader(status: UnsafeRawBufferPointer) throws(DecodeError) -> RaftNodeHint? {
        var reader = ProtobufReader(status)
        while let (number, wire) = try reader.nextField() {
            guard number == 3, wire == .lengthDelimited else {
                try reader.skip(wire)
                continue
            }
            var any = ProtobufReader(try reader.readLengthDelimited())
            var typeURL = ByteString.empty
            var value: UnsafeRawBufferPointer?
            while let (n, w) = try any.nextField() {
                switch (n, w) {
                case (1, .lengthDelimited): typeURL = ByteString(try any.readLengthDelimited())
                case (2, .lengthDelimited): value = try any.readLengthDelimited()
                default: try any.skip(w)
                }
            }
            if typeURL == raftNodeTypeURL, let value { return try raftNode(value) }
        }
        return nil
    }

    static func raftNode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> RaftNodeHint {
        var reader = ProtobufReader(bytes)
        var hint = RaftNodeHint(id: "", address: "")
        while let (number, wire) = try reader.nextField() {
            switch (number, wire) {
            case (1, .lengthDelimited): hint.id = String(decoding: try reader.readLengthDelimited(), as: UTF8.self)
            case (2, .lengthDelimited): hint.address = String(decoding: try reader.readLengthDelimited(), as: UTF8.self)
            default: try reader.skip(wire)
            }
        }
        return hint
    }

    /// Standard base64; trailing `=` optional; nil on any other byte or an impossible length.
    static func base64Decode(_ text: [UInt8]) -> [UInt8]? {
        var end = text.count
        while end > 0, text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        guard end % 4 != 1, text.count - end <= 2 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(end * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for i in 0..<end {
            guard let v = sextet(text[i]) else { return nil }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
