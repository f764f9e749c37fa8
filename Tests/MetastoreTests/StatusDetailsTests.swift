import BinaryCoding
import Metastore
import Testing

@Suite struct StatusDetailsTests {
    /// `google.rpc.Status{code: UNAVAILABLE, message: "node is not the leader",
    /// details: [Any(RaftNode{id: "metastore-1", address: "10.0.0.1:9095"})]}` as Python's
    /// protobuf serialises it, base64 with padding (segment-object.md §11.2).
    static let padded: ByteString =
        "CA4SFm5vZGUgaXMgbm90IHRoZSBsZWFkZXIaRgomdHlwZS5nb29nbGVhcGlzLmNvbS9yYWZ0X25vZGUuUmFmdE5vZGUSHAoLbWV0YXN0b3JlLTESDTEwLjAuMC4xOjkwOTU="

    @Test func leaderHintFromPaddedAndUnpaddedBase64() {
        let expected = RaftNodeHint(id: "metastore-1", address: "10.0.0.1:9095")
        #expect(StatusDetails.raftLeader(headerValue: Self.padded) == expected)
        // grpc-go sends binary headers without padding.
        let unpadded = ByteString(Array(Self.padded.bytes.dropLast()))
        #expect(StatusDetails.raftLeader(headerValue: unpadded) == expected)
    }

    @Test func otherDetailTypesAreSkipped() throws {
        var status = ByteWriter()
        status.appendVarintField(1, 14)
        status.appendMessageField(3) { any in
            any.appendStringField(1, "type.googleapis.com/google.rpc.ErrorInfo")
            any.appendBytesField(2, [0x0a, 0x01, 0x78])
        }
        status.appendMessageField(3) { any in
            any.appendStringField(1, "type.googleapis.com/raft_node.RaftNode")
            any.appendMessageField(2) { node in
                node.appendStringField(1, "b")
                node.appendStringField(2, "127.0.0.1:7")
            }
        }
        let hint = try status.bytes.withUnsafeBytes { raw throws(DecodeError) in try StatusDetails.raftLeader(status: raw) }
        #expect(hint == RaftNodeHint(id: "b", address: "127.0.0.1:7"))
    }

    @Test func noDetailsMeansNoHint() throws {
        var status = ByteWriter()
        status.appendVarintField(1, 14)
        status.appendStringField(2, "leadership lost")
        let hint = try status.bytes.withUnsafeBytes { raw throws(DecodeError) in try StatusDetails.raftLeader(status: raw) }
        #expect(hint == nil)
    }

    @Test(arguments: ["", "!!!!", "A", "CA4SFm5vZGUg*XMg", "CA4SFm5vZGUgaXMgbm90IHRoZSBsZWFkZXIaRgomdHlwZS5nb29n"])
    func garbageYieldsNoHint(_ value: String) {
        #expect(StatusDetails.raftLeader(headerValue: ByteString(value)) == nil)
    }

    @Test func everyTruncationOfTheStatusIsHandled() throws {
        var status = ByteWriter()
        status.appendMessageField(3) { any in
            any.appendStringField(1, "type.googleapis.com/raft_node.RaftNode")
            any.appendMessageField(2) { node in node.appendStringField(2, "127.0.0.1:7") }
        }
        for n in 0..<status.bytes.count {
            let prefix = Array(status.bytes[..<n])
            _ = try? prefix.withUnsafeBytes { raw throws(DecodeError) in try StatusDetails.raftLeader(status: raw) }
        }
    }
}
