import Metastore
import Testing

/// A follower names the leader by its raft server ID and raft transport address (port 9099 by
/// default), not its gRPC address (segment-object.md §11.2): the hint is followed only to a
/// configured node it identifies; otherwise the call moves on to the next configured node.
@Suite(.serialized) struct MetastoreLeaderHintTests {
    /// Runs `count` AddBlocks against `endpoints` (literal addresses: nothing is looked up).
    private func addBlocks(_ endpoints: [MetastoreEndpoint], count: Int) throws -> [String] {
        try MetastoreTests.addBlocks(MovingMetastoreName(ports: []), count: count, timeoutNs: 2_000_000_000,
                                       configure: { $0.endpoints = endpoints })
    }

    @Test(arguments: [
        // Nodes listed without IDs all have their host's; so does this hint, once its port is stripped.
        RaftNodeHint(id: "127.0.0.1:9099", address: "127.0.0.1:9099"),
        RaftNodeHint(id: "metastore-2", address: "10.0.0.2:9099"),
    ])
    func aHintThatIdentifiesNoConfiguredNodeIsPassedOverForTheNextNode(_ hint: RaftNodeHint) throws {
        let follower = try MetastoreDouble(leaderHint: hint)
        let leader = try MetastoreDouble()
        let third = try MetastoreDouble()
        defer { [follower, leader, third].forEach { $0.stop() } }
        let outcomes = try addBlocks([follower.endpoint(), leader.endpoint(), third.endpoint()], count: 3)
        #expect(outcomes == ["ok", "ok", "ok"])
        // The node that answered is asked first by the later calls.
        #expect(follower.calls.value == 1)
        #expect(leader.calls.value == 3)
        #expect(third.calls.value == 0)
    }

    @Test func aHintWhoseIDNamesAConfiguredNodeIsFollowedPastTheNextOne() throws {
        let leader = try MetastoreDouble()
        let follower = try MetastoreDouble(leaderHint: RaftNodeHint(id: "metastore-2:9099", address: "10.0.0.2:9099"))
        let bystander = try MetastoreDouble()
        defer { [follower, leader, bystander].forEach { $0.stop() } }
        let endpoints = [follower.endpoint(id: "metastore-0"), bystander.endpoint(id: "metastore-1"), leader.endpoint(id: "metastore-2")]
        #expect(try addBlocks(endpoints, count: 2) == ["ok", "ok"])
        #expect(follower.calls.value == 1)
        #expect(leader.calls.value == 2)
        #expect(bystander.calls.value == 0)
    }
}
