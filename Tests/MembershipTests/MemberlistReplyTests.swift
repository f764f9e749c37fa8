import BinaryCoding
import TestSupport
import Testing
@testable import Membership

/// Reading the ring out of a memberlist member's push/pull reply (for upstream's readiness
/// check): a reply of the real peer (hashicorp/memberlist with compression, Go's LZW and snappy,
/// Tests/Peers/memberlist-peer) decoded, and every corruption of it refused without a trap.
@Suite struct MemberlistReplyTests {
    /// The reply of `memberlist-peer -register=peer-1 -port=17946` to a push/pull carrying no
    /// state: `compressMsg`, `{Algo: 0, Buf: <LZW>}` around the peer's one node and its KV store,
    /// which holds the instance it heartbeats (4 tokens, ACTIVE) under the default ring key.
    static let realReply = hex("""
        0982a4416c676f00a3427566da00d4000d0c22a5e44d1a37c24a397943a6cc9c00acaacc2923670a9d3074ca3029\
        e386ce215241c8909143ea0f00000156257133268c1c3718d3bc7113805493321781917212a64d195170629082f2\
        460e9d66463494b288b10c805156e6b83115a08080935801c051e061cc1b366cca8ca15374ce8b89677c766c7147\
        4e9a8c725ab8757346428f1de814e45060004e198a2d624878a1e0410c19375cc050ec22868e183772d0b0016196\
        3551d80cc84080ee00b407b82e80fa0024d6e5cc4afafe8d1b430382b96788381c83c297a079ce42d10808
        """)
    static let key = "collectors/segment-writer-ring"

    static func hex(_ s: String) -> [UInt8] {
        let digits = Array(s.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count, by: 2).map { i in UInt8(String(digits[i ..< i + 2]), radix: 16)! }
    }

    static func instances(_ reply: [UInt8], key: String = key) throws(DecodeError) -> [RingInstance] {
        try reply.withUnsafeBytes { b in Result { () throws(DecodeError) in try MemberlistReply.ringInstances(b, key: key) } }.get()
    }

    @Test func theRealPeersReplyGivesItsInstance() throws {
        let ring = try Self.instances(Self.realReply)
        #expect(ring.count == 1)
        let peer = try #require(ring.first)
        #expect(peer.id == "peer-1")
        #expect(peer.addr == "127.0.0.1:17946")
        #expect(peer.state == 0 && peer.stateName == "ACTIVE")
        #expect(peer.tokenCount == 4)
        #expect(peer.timestamp > 1_764_000_000, "a unix time of 2025 or later: \(peer.timestamp)")
        #expect(try Self.instances(Self.realReply, key: "collectors/other-ring").isEmpty)
    }

    /// Every prefix and every single-bit flip of the real reply: an error or a ring, never a trap
    /// (a flip inside the LZW data may still decode to something; its ring is then whatever it
    /// reads).
    @Test func corruptionsAreRefusedWithoutATrap() {
        for n in 0 ..< Self.realReply.count {
            #expect(throws: DecodeError.self) { try Self.instances(Array(Self.realReply[..<n])) }
        }
        for i in 0 ..< Self.realReply.count {
            for bit in 0 ..< 8 {
                var flipped = Self.realReply
                flipped[i] ^= 1 << bit
                _ = try? Self.instances(flipped)
            }
        }
    }

    @Test func otherMessageTypesAreNamed() {
        #expect(throws: DecodeError.self) { try Self.instances([MemberlistReply.errMsg, 0x80]) }
        do {
            _ = try Self.instances([10, 1, 2, 3])
            Issue.record("an encrypted reply was read")
        } catch {
            #expect(error.kind == .unsupported && error.message.contains("type 10"), "\(error)")
        }
    }

    /// An uncompressed push/pull (memberlist without compression): two nodes to skip, then the
    /// KV state with another key first and the ring second.
    @Test func anUncompressedReplyWithNodesAndOtherKeys() throws {
        let ring = InstanceDesc(id: "w-1", addr: "10.0.0.1:9095", timestamp: 1_700_000_000, state: .leaving,
                                tokens: [1, 2, 3], registeredTimestamp: 1_699_999_000).ringDescBytes()
        var state = ByteWriter()
        for (key, value, codec) in [("other", [UInt8](repeating: 7, count: 3), "x"), (Self.key, SnappyLiterals.encode(ring), "ringDesc")] {
            var pair = ByteWriter()
            pair.appendStringField(1, key)
            pair.appendBytesField(2, value)
            pair.appendStringField(3, codec)
            state.appendBE32(UInt32(pair.count))
            state.append(contentsOf: pair.bytes)
        }
        var w = ByteWriter()
        w.append(PushPullMessage.pushPull)
        w.append(contentsOf: [0x83, 0xA5] + Array("Nodes".utf8) + [0x02, 0xAC] + Array("UserStateLen".utf8) + [0xCD])
        w.appendBE16(UInt16(state.count))
        w.append(contentsOf: [0xA4] + Array("Join".utf8) + [0xC2])
        for name in ["a", "b"] {  // pushNodeState-like maps: strings, raw bytes, an array, integers
            w.append(contentsOf: [0x84, 0xA4] + Array("Name".utf8) + [0xA1] + Array(name.utf8))
            w.append(contentsOf: [0xA4] + Array("Addr".utf8) + [0xC4, 0x04, 127, 0, 0, 1])
            w.append(contentsOf: [0xA3] + Array("Vsn".utf8) + [0x96, 1, 5, 2, 0, 0, 0])
            w.append(contentsOf: [0xAB] + Array("Incarnation".utf8) + [0xCE, 0, 1, 0, 0])
        }
        w.append(contentsOf: state.bytes)
        let instances = try Self.instances(w.bytes)
        #expect(instances == [RingInstance(id: "w-1", addr: "10.0.0.1:9095", timestamp: 1_700_000_000, state: 1, tokenCount: 3)])
        #expect(throws: DecodeError.self) { try Self.instances(w.bytes.dropLast()) }
    }
}

@Suite struct SnappyBlockTests {
    static func decode(_ bytes: [UInt8], limit: Int = 1 << 20) throws(DecodeError) -> [UInt8] {
        try bytes.withUnsafeBytes { b in Result { () throws(DecodeError) in try SnappyBlock.decode(b, limit: limit) } }.get()
    }

    /// Hand-made blocks of each element kind (format_description.txt): literal, 1-byte-offset
    /// copy (length 4–11), 2- and 4-byte-offset copies, an overlapping copy repeating a byte.
    @Test func everyElementKind() throws {
        // "abcd" then copy-1 of 4 at offset 4 → "abcdabcd"
        #expect(try Self.decode([8, 3 << 2, 97, 98, 99, 100, 0 << 5 | 0 << 2 | 1, 4]) == Array("abcdabcd".utf8))
        // "ab" then a 2-byte-offset copy of 6 at offset 2 → "abababab"
        #expect(try Self.decode([8, 1 << 2, 97, 98, 5 << 2 | 2, 2, 0]) == Array("abababab".utf8))
        // "x" then a 4-byte-offset copy of 5 at offset 1 → "xxxxxx"
        #expect(try Self.decode([6, 0, 120, 4 << 2 | 3, 1, 0, 0, 0]) == Array("xxxxxx".utf8))
        // a literal of 61 bytes (length in one extra byte)
        let long = [UInt8](repeating: 9, count: 61)
        #expect(try Self.decode([61, 60 << 2, 60] + long) == long)
        #expect(try Self.decode(SnappyLiterals.encode(Array(0 ... 255) + Array(0 ... 255))) == Array(0 ... 255) + Array(0 ... 255))
    }

    @Test func badBlocksAreRefused() {
        #expect(throws: DecodeError.self) { try Self.decode([4, 1 << 2, 97, 98, 1, 9]) }  // offset beyond the output
        #expect(throws: DecodeError.self) { try Self.decode([4, 1 << 2, 97, 98, 1, 0]) }  // offset 0
        #expect(throws: DecodeError.self) { try Self.decode([3, 3 << 2, 97, 98, 99, 100]) }  // more than declared
        #expect(throws: DecodeError.self) { try Self.decode([5, 3 << 2, 97, 98, 99, 100]) }  // less than declared
        #expect(throws: DecodeError.self) { try Self.decode([0x80, 0x80, 0x80, 0x80, 0x01]) }  // declared beyond the limit
        #expect(throws: DecodeError.self) { try Self.decode([8, 60 << 2]) }  // cut in a literal's length
    }
}

@Suite struct LZWDecoderTests {
    static func decode(_ bytes: [UInt8], limit: Int = 1 << 20) throws(DecodeError) -> [UInt8] {
        try bytes.withUnsafeBytes { b in Result { () throws(DecodeError) in try LZWDecoder.decode(b, limit: limit) } }.get()
    }

    /// Codes written LSB first at `width` bits each.
    static func pack(_ codes: [(code: Int, width: Int)]) -> [UInt8] {
        var out: [UInt8] = [], bits = 0, count = 0
        for (code, width) in codes {
            bits |= code << count
            count += width
            while count >= 8 { out.append(UInt8(bits & 0xFF)); bits >>= 8; count -= 8 }
        }
        if count > 0 { out.append(UInt8(bits)) }
        return out
    }

    /// "ababab…": literals, then table entries, the code-equals-next-entry case (KwKwK), a clear
    /// in the middle, and the end code.
    @Test func tableEntriesAndTheSpecialCase() throws {
        // a b 258(=ab) 260(=aba: the entry being defined) end → "ab" "ab" "aba"
        let stream = Self.pack([(256, 9), (97, 9), (98, 9), (258, 9), (260, 9), (256, 9), (120, 9), (257, 9)])
        #expect(try Self.decode(stream) == Array("abababax".utf8))
    }

    @Test func badStreamsAreRefused() {
        #expect(throws: DecodeError.self) { try Self.decode(Self.pack([(97, 9), (300, 9), (257, 9)])) }  // not in the table
        #expect(throws: DecodeError.self) { try Self.decode(Self.pack([(97, 9)])) }  // no end code
        #expect(throws: DecodeError.self) { try Self.decode(Self.pack([(97, 9), (98, 9), (258, 9), (257, 9)]), limit: 3) }
    }
}
