import BinaryCoding
import TestSupport
import Testing
@testable import Membership

/// What a memberlist member reads from our push/pull (ingest-and-ops.md §3.7), decoded here
/// field by field; the Go peer test (Tests/Python/test_ring_membership.py) checks the same
/// bytes against hashicorp/memberlist itself.
@Suite struct PushPullMessageTests {
    static let instance = InstanceDesc(id: "writer-1", addr: "10.1.2.3:9095", timestamp: 1_700_000_123, state: .active,
                                       tokens: [7, 300, 70_000, 4_000_000_000], zone: "z1", registeredTimestamp: 1_700_000_000)

    @Test func framingAndHeader() throws {
        let bytes = PushPullMessage.ring(Self.instance, key: "collectors/segment-writer-ring", nowMillis: 1_700_000_123_456)
        let message = try PushPullReading(bytes)
        #expect(message.label == nil)
        #expect(message.header == [0x83, 0xA5] + Array("Nodes".utf8) + [0x00, 0xAC] + Array("UserStateLen".utf8)
                + message.userStateLengthBytes + [0xA4] + Array("Join".utf8) + [0xC2])
        #expect(message.pairs.count == 1)
        let pair = message.pairs[0]
        #expect(pair.key == "collectors/segment-writer-ring")
        #expect(pair.codec == "ringDesc")
        #expect(pair.updateTimeMillis == 1_700_000_123_456)
        let desc = try RingDescReading(snappyLiterals: pair.value)
        #expect(desc.instances == ["writer-1": Self.instance])
    }

    @Test func clusterLabelPrecedesTheMessage() throws {
        let bytes = PushPullMessage.ring(Self.instance, key: "k", nowMillis: 1, clusterLabel: "prod-eu")
        let message = try PushPullReading(bytes)
        #expect(message.label == "prod-eu")
        #expect(message.pairs.map(\.key) == ["k"])
    }

    @Test func leavingStateIsWrittenAndActiveIsLeftOut() throws {
        var leaving = Self.instance
        leaving.state = .leaving
        let active = try RingDescReading(protobuf: Self.instance.ringDescBytes())
        #expect(!active.stateFieldPresent)
        let read = try RingDescReading(protobuf: leaving.ringDescBytes())
        #expect(read.instances["writer-1"]?.state == .leaving)
    }

    @Test func largeValuesTakeLongerLiteralsAndUserStateLengths() throws {
        // 300 tokens: a desc over 255 bytes (two-byte literal length), user state over 255 bytes (0xCD).
        var generator = SplitMix64(seed: 9)
        var big = Self.instance
        big.tokens = RingTokens.random(300, using: &generator)
        let message = try PushPullReading(PushPullMessage.ring(big, key: "k", nowMillis: 5))
        #expect(message.userStateLengthBytes.first == 0xCD)
        #expect(try RingDescReading(snappyLiterals: message.pairs[0].value).instances["writer-1"] == big)
    }

    @Test func tokensAreSortedUniqueAndAsMany() {
        var generator = SplitMix64(seed: 1)
        let tokens = RingTokens.random(4, using: &generator)
        #expect(tokens.count == 4)
        #expect(tokens == tokens.sorted())
        #expect(Set(tokens).count == 4)
    }
}
