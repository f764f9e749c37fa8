import Metastore
import Runtime
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A metastore address that drops SYNs (a vanished pod's, in Kubernetes) costs a call one
/// connect timeout, not its whole deadline (Metastore README, "Invariants").
@Suite(.serialized) struct MetastoreConnectTimeoutTests {
    @Test func aBlackHoledAddressIsAbandonedAfterTheConnectTimeoutAndTheCallMovesOnToTheNextNode() throws {
        let blackHole = try BlackHoledPort()
        defer { blackHole.close() }
        let metastore = try MetastoreDouble()
        defer { metastore.stop() }
        // The black-holed address is a name's only one, so its failed connect shows as a lookup.
        let name = MovingMetastoreName(ports: [blackHole.port])
        let live = MetastoreEndpoint(node: MetastoreNode(id: "live", host: "127.0.0.1", port: UInt16(metastore.port)),
                                     addresses: [EndpointAddress.literal("127.0.0.1", port: metastore.port)!])
        let startNs = EventLoop.monotonicNowNs
        let outcomes = try addBlocks(name, count: 1, timeoutNs: 10_000_000_000, configure: { $0.endpoints.append(live) })
        let elapsedMs = (EventLoop.monotonicNowNs - startNs) / 1_000_000
        #expect(outcomes == ["ok"])
        // One connect timeout (1 s by default), far inside the 10 s deadline.
        #expect(elapsedMs >= 900 && elapsedMs < 3_000, "took \(elapsedMs) ms")
        #expect(metastore.calls.value == 1)
        // Counted as a failed connect: every address of its name failed, so the name is looked up again.
        for _ in 0..<2_000 where name.lookups.value < 2 { usleep(1000) }
        #expect(name.lookups.value == 2)
        #expect(name.lookupsOnLoop.value == 0)
    }

    @Test func aCallWithOnlyABlackHoledAddressRetriesItEveryConnectTimeoutUntilTheDeadline() throws {
        let blackHole = try BlackHoledPort()
        defer { blackHole.close() }
        let name = MovingMetastoreName(ports: [blackHole.port])
        let outcomes = try addBlocks(name, count: 1, timeoutNs: 1_000_000_000, configure: { $0.connectTimeoutNs = 300_000_000 })
        #expect(outcomes.count == 1)
        let outcome = outcomes.first ?? ""
        #expect(outcome.contains("metastore connect timed out after 300 ms"), "\(outcome)")
        // Each attempt took one connect timeout: three fit in the deadline (a loaded machine may
        // end the call on the third's failure, UNAVAILABLE, rather than during a fourth).
        let attempts = outcome.split(separator: ",").last.flatMap { Int($0.split(separator: " ").first ?? "") }
        #expect(attempts.map { $0 >= 3 && $0 <= 4 } == true, "\(outcome)")
    }
}
