import Testing
@testable import Membership

/// The heartbeat just sent, merged into the ring the member replied with (which predates it),
/// by dskit's rule: the newer heartbeat wins, a missing entry is added.
@Suite struct RingMergeTests {
    static func instance(_ id: String, at timestamp: Int64, state: UInt64 = 0, tokens: Int = 4) -> RingInstance {
        RingInstance(id: id, addr: "10.0.0.1:9095", timestamp: timestamp, state: state, tokenCount: tokens)
    }

    @Test func theFirstHeartbeatIsAddedToARingWithoutIt() {
        let ring = [Self.instance("peer-1", at: 190)]
        let own = RingInstance(InstanceDesc(id: "me", addr: "10.0.0.7:9095", timestamp: 200, state: .active,
                                            tokens: [1, 5, 9], registeredTimestamp: 150))
        #expect(own == RingInstance(id: "me", addr: "10.0.0.7:9095", timestamp: 200, state: 0, tokenCount: 3))
        #expect(RingInstance.merging(own, into: ring) == ring + [own])
        #expect(RingHealth.problem(RingInstance.merging(own, into: ring), selfID: "me", checkAllInstances: true,
                                   heartbeatTimeoutNs: 60_000_000_000, nowNs: 210_000_000_000) == nil)
    }

    @Test func aNewerHeartbeatReplacesTheMembersEntryAnOlderOneDoesNot() {
        let ring = [Self.instance("peer-1", at: 100), Self.instance("me", at: 150, state: 3)]
        let fresh = Self.instance("me", at: 160)
        #expect(RingInstance.merging(fresh, into: ring) == [ring[0], fresh])
        // The member holds a newer entry (another process wrote it): it stays, as in dskit.
        let stale = Self.instance("me", at: 140)
        #expect(RingInstance.merging(stale, into: ring) == ring)
        let same = Self.instance("me", at: 150)
        #expect(RingInstance.merging(same, into: ring) == ring)
    }
}
