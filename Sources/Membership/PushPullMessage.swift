import BinaryCoding

/// The bytes a writer sends to one memberlist member to put its ring entry into the cluster's
/// KV store (ingest-and-ops.md §3.7, "Memberlist specifics"): a memberlist *push/pull* over
/// dskit's TCP transport that carries no member state, only the KV pair. The member merges the
/// pair (the entry with the newer heartbeat wins) and gossips the change on, so distributors
/// learn it without the writer being a gossip member (nobody probes it, nothing to answer).
///
/// Layout: dskit's stream marker (2); the cluster label header when one is set (memberlist
/// `hasLabelMsg` 244, length, label); memberlist's `pushPullMsg` (6); the msgpack header
/// `{Nodes: 0, UserStateLen: n, Join: false}` (hashicorp's codec: a struct is a map keyed by
/// field name); then the user state, dskit's `[uint32 BE length][KeyValuePair]` sequence.
public enum PushPullMessage {
    static let dskitStream: UInt8 = 2
    static let hasLabel: UInt8 = 244
    static let pushPull: UInt8 = 6
    /// dskit's codec ID for `ring.Desc` values.
    public static let ringCodec = "ringDesc"

    /// The message carrying `value` (already encoded by `codec`) under `key`.
    /// `clusterLabel` must be at most 255 bytes (checked by the configuration).
    public static func encode(key: String, value: [UInt8], codec: String, updateTimeMillis: Int64,
                              clusterLabel: String = "") -> [UInt8] {
        var pair = ByteWriter()
        pair.appendStringField(1, key)
        pair.appendBytesField(2, value)
        pair.appendStringField(3, codec)
        if updateTimeMillis != 0 { pair.appendInt64Field(5, updateTimeMillis) }
        var userState = ByteWriter()
        userState.appendBE32(UInt32(pair.count))
        userState.append(contentsOf: pair.bytes)

        var w = ByteWriter()
        w.append(dskitStream)
        if !clusterLabel.isEmpty {
            let label = Array(clusterLabel.utf8)
            precondition(label.count <= 255, "memberlist cluster label longer than 255 bytes")
            w.append(hasLabel)
            w.append(UInt8(label.count))
            w.append(contentsOf: label)
        }
        w.append(pushPull)
        w.append(0x83) // fixmap, three entries
        appendMsgpackString("Nodes", to: &w)
        w.append(0x00)
        appendMsgpackString("UserStateLen", to: &w)
        appendMsgpackUInt(UInt64(userState.count), to: &w)
        appendMsgpackString("Join", to: &w)
        w.append(0xC2) // false
        w.append(contentsOf: userState.bytes)
        return w.bytes
    }

    /// The message publishing `instance` under `key` (`<prefix>segment-writer-ring`).
    public static func ring(_ instance: InstanceDesc, key: String, nowMillis: Int64, clusterLabel: String = "") -> [UInt8] {
        encode(key: key, value: SnappyLiterals.encode(instance.ringDescBytes()), codec: ringCodec,
               updateTimeMillis: nowMillis, clusterLabel: clusterLabel)
    }

    private static func appendMsgpackString(_ s: String, to w: inout ByteWriter) {
        let bytes = Array(s.utf8)
        precondition(bytes.count < 32, "fixstr only")
        w.append(0xA0 | UInt8(bytes.count))
        w.append(contentsOf: bytes)
    }

    private static func appendMsgpackUInt(_ v: UInt64, to w: inout ByteWriter) {
        switch v {
        case 0 ..< 0x80: w.append(UInt8(v))
        case 0x80 ... 0xFF: w.append(0xCC); w.append(UInt8(v))
        case 0x100 ... 0xFFFF: w.append(0xCD); w.appendBE16(UInt16(v))
        case 0x1_0000 ... 0xFFFF_FFFF: w.append(0xCE); w.appendBE32(UInt32(v))
        default: w.append(0xCF); w.appendBE64(v)
        }
    }
}
