import BinaryCoding
import Membership

/// What reading a memberlist member's push/pull reply promises whatever the member sends
/// (LZW, msgpack, dskit's KV pairs, snappy, `ring.Desc`): the ring's instances or a
/// `DecodeError`, never a trap (the registration thread reads it each heartbeat).
public struct MemberlistReplyCheck {
    public static let key = "collectors/segment-writer-ring"

    public init() {}

    public func check(_ bytes: UnsafeRawBufferPointer) -> String {
        do {
            return "instances \(try MemberlistReply.ringInstances(bytes, key: Self.key).count)"
        } catch {
            return "refused: \(error)"
        }
    }

    /// A real member's reply (`Tests/Peers/memberlist-peer`, hashicorp/memberlist with
    /// compression: LZW around its one node and the instance it heartbeats), and a push/pull
    /// as this writer sends it, uncompressed (without dskit's stream marker, which a reply lacks).
    public static var seeds: [(name: String, bytes: [UInt8])] {
        let instance = InstanceDesc(id: "writer-1", addr: "10.0.0.1:9095", timestamp: 1_700_000_000, state: .active,
                                    tokens: [7, 1_000, 70_000], registeredTimestamp: 1_700_000_000)
        return [
            ("real-peer-reply", realPeerReply),
            ("push-pull", Array(PushPullMessage.ring(instance, key: key, nowMillis: 1_700_000_000_000).dropFirst())),
        ]
    }

    static let realPeerReply: [UInt8] = {
        let hex = Array("""
            0982a4416c676f00a3427566da00d4000d0c22a5e44d1a37c24a397943a6cc9c00acaacc2923670a9d3074ca3029\
            e386ce215241c8909143ea0f00000156257133268c1c3718d3bc7113805493321781917212a64d195170629082f2\
            460e9d66463494b288b10c805156e6b83115a08080935801c051e061cc1b366cca8ca15374ce8b89677c766c7147\
            4e9a8c725ab8757346428f1de814e45060004e198a2d624878a1e0410c19375cc050ec22868e183772d0b0016196\
            3551d80cc84080ee00b407b82e80fa0024d6e5cc4afafe8d1b430382b96788381c83c297a079ce42d10808
            """.utf8)
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0 ..< $0 + 2], as: UTF8.self), radix: 16)! }
    }()
}
