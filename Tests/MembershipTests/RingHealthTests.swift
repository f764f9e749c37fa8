import Testing
@testable import Membership

/// dskit's readiness check on the ring, heartbeat part: `IsHeartbeatHealthy` passes any
/// heartbeat when the timeout is 0.
@Suite struct RingHealthTests {
    static let nowNs: Int64 = 1_000_000_000_000

    static func instance(_ id: String, secondsAgo: Int64, state: UInt64 = 0) -> RingInstance {
        RingInstance(id: id, addr: "10.0.0.1:9095", timestamp: nowNs / 1_000_000_000 - secondsAgo, state: state, tokenCount: 4)
    }

    static func problem(_ ring: [RingInstance], checkAll: Bool = true, timeoutNs: Int64) -> String? {
        RingHealth.problem(ring, selfID: "me", checkAllInstances: checkAll, heartbeatTimeoutNs: timeoutNs, nowNs: nowNs)
    }

    @Test func aZeroTimeoutPassesHeartbeatsOfAnyAge() {
        let ring = [Self.instance("me", secondsAgo: 1), Self.instance("peer", secondsAgo: 900)]
        #expect(Self.problem(ring, timeoutNs: 60_000_000_000) == "instance 10.0.0.1:9095 past heartbeat timeout")
        #expect(Self.problem(ring, timeoutNs: 0) == nil)
        #expect(Self.problem([Self.instance("me", secondsAgo: 900)], checkAll: false, timeoutNs: 0) == nil)
    }

    @Test func aZeroTimeoutStillChecksStatesAndPresence() {
        #expect(Self.problem([Self.instance("me", secondsAgo: 1), Self.instance("peer", secondsAgo: 5, state: 1)], timeoutNs: 0)
                == "instance 10.0.0.1:9095 in state LEAVING")
        #expect(Self.problem([Self.instance("peer", secondsAgo: 1)], timeoutNs: 0) == "instance me not found in the ring")
    }
}
