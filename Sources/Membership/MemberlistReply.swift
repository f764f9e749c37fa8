import BinaryCoding

/// What a memberlist member answers a push/pull with: its own state, from which this writer reads
/// the segment-writer ring (for upstream's readiness check, `RingHealth`). Layout (hashicorp
/// memberlist, Grafana's fork): optionally `compressMsg` (9) and the msgpack
/// `{Algo: 0, Buf: <LZW>}` around the rest; `pushPullMsg` (6); the msgpack header
/// `{Nodes, UserStateLen, Join}`; `Nodes` node states; then the user state, dskit's
/// `[uint32 BE length][KeyValuePair]` sequence, whose ring value is a snappy block of `ring.Desc`.
public enum MemberlistReply {
    static let compressMsg: UInt8 = 9
    static let errMsg: UInt8 = 13
    /// Bound of a decompressed reply and of a ring value (a ring of thousands of instances
    /// with 128 tokens each is a few MB).
    static let maxDecodedBytes = 64 << 20

    /// The instances of the ring under `key` in a reply; none when the member holds no such key.
    public static func ringInstances(_ reply: UnsafeRawBufferPointer, key: String) throws(DecodeError) -> [RingInstance] {
        var r = ByteReader(reply)
        let type = try r.readU8()
        if type == compressMsg {
            let inflated = try decompressed(try r.readBytes(r.remaining))
            guard inflated.first == PushPullMessage.pushPull else {
                throw DecodeError(.unsupported, at: 0, "memberlist: compressed reply of type \(inflated.first ?? 0), not a push/pull")
            }
            return try inflated.withUnsafeBytes { bytes in
                Result { () throws(DecodeError) in try ringInstances(pushPull: UnsafeRawBufferPointer(rebasing: bytes[1...]), key: key) }
            }.get()
        }
        guard type == PushPullMessage.pushPull else {
            if type == errMsg { throw DecodeError(.unsupported, at: 0, "memberlist: the member answered with an error message") }
            throw DecodeError(.unsupported, at: 0, "memberlist: reply of type \(type), not a push/pull (encrypted?)")
        }
        return try ringInstances(pushPull: try r.readBytes(r.remaining), key: key)
    }

    /// `compress{Algo, Buf}` → the bytes it wraps (LZW, the only algorithm memberlist writes by default).
    private static func decompressed(_ message: UnsafeRawBufferPointer) throws(DecodeError) -> [UInt8] {
        var m = MsgpackReader(message)
        var algorithm: Int64?, buffer: UnsafeRawBufferPointer?
        for _ in 0 ..< (try m.readMapCount()) {
            switch ByteString(try m.readBytes()) {
            case "Algo": algorithm = try m.readInt()
            case "Buf": buffer = try m.readBytes()
            default: try m.skipValue()
            }
        }
        guard let buffer, algorithm == 0 else {
            throw DecodeError(.unsupported, at: 0, "memberlist: compression algorithm \(algorithm.map(String.init) ?? "missing"), only LZW (0) is read")
        }
        do {
            return try LZWDecoder.decode(buffer, limit: maxDecodedBytes)
        } catch {
            throw error.inRegion("memberlist compressed payload")
        }
    }

    /// The header, the node states (skipped), then the user state.
    private static func ringInstances(pushPull: UnsafeRawBufferPointer, key: String) throws(DecodeError) -> [RingInstance] {
        var m = MsgpackReader(pushPull)
        var nodes: Int64 = 0, userStateLength: Int64 = 0
        for _ in 0 ..< (try m.readMapCount()) {
            switch ByteString(try m.readBytes()) {
            case "Nodes": nodes = try m.readInt()
            case "UserStateLen": userStateLength = try m.readInt()
            default: try m.skipValue()
            }
        }
        guard nodes >= 0, userStateLength >= 0 else {
            throw DecodeError(.malformed, at: m.offset, "memberlist: negative counts in the push/pull header")
        }
        for _ in 0 ..< nodes { try m.skipValue() }
        let rest = try m.rest()
        guard userStateLength <= rest.count else {
            throw DecodeError(.truncated, at: m.offset, "memberlist: user state of \(userStateLength) bytes, \(rest.count) left")
        }
        return try ringInstances(userState: UnsafeRawBufferPointer(rebasing: rest[..<Int(userStateLength)]), key: key)
    }

    /// dskit's KV user state: the pair under `key`, its value decoded by the `ringDesc` codec.
    private static func ringInstances(userState: UnsafeRawBufferPointer, key: String) throws(DecodeError) -> [RingInstance] {
        var r = ByteReader(userState)
        let wanted = ByteString(key)
        while !r.isAtEnd {
            let length = Int(try r.readBE32())
            var pair = ProtobufReader(try r.readBytes(length))
            var pairKey = ByteString(""), codec = ByteString(""), value: UnsafeRawBufferPointer?
            while let (field, wire) = try pair.nextField() {
                switch (field, wire) {
                case (1, .lengthDelimited): pairKey = ByteString(try pair.readLengthDelimited())
                case (2, .lengthDelimited): value = try pair.readLengthDelimited()
                case (3, .lengthDelimited): codec = ByteString(try pair.readLengthDelimited())
                default: try pair.skip(wire)
                }
            }
            guard pairKey == wanted else { continue }
            guard codec == ByteString(PushPullMessage.ringCodec) else {
                throw DecodeError(.unsupported, at: r.offset, "memberlist: key \(key) has codec \(codec), not \(PushPullMessage.ringCodec)")
            }
            guard let value else { return [] }
            let desc = try SnappyBlock.decode(value, limit: maxDecodedBytes)
            return try desc.withUnsafeBytes { bytes in Result { () throws(DecodeError) in try RingInstance.ringDesc(bytes) } }.get()
        }
        return []
    }
}
