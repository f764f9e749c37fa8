@testable import ObjectStorage
import Runtime
import Synchronization
import Testing
import TestSupport

/// On a ring store for `minio.test` at `ports` whose requests end after `ioTimeoutMs`: one put
/// ended by its deadline, then one ended by `cancelPuts` after `cancelAfterMs`, each outcome
/// recorded with the address the next connect takes; then `then` runs on the loop.
private func cutShortTwice(ports: [Int], ioTimeoutMs: Int, cancelAfterMs: UInt64, _ outcomes: Outcomes,
                           then: @escaping @Sendable (RingS3ObjectStore, @escaping @Sendable () -> Void) -> Void) throws {
    let name = MovingName(ports: ports)
    try onLoop { loop, done in
        guard let store = movingRingStore(loop, name, ioTimeoutMs: ioTimeoutMs, outcomes) else { return done() }
        func next() -> String { store.endpoints.next().description }
        store.put("segments/1/block.bin", [1]) { result in
            outcomes.add("deadline \(result), next \(next())")
            store.put("segments/2/block.bin", [2]) { result in
                outcomes.add("cancelPuts \(result), next \(next()), resolving \(store.endpoints.resolutionPending)")
                then(store, done)
            }
            loop.scheduleTimer(afterMs: cancelAfterMs) { _ in store.cancelPuts("segments/2/block.bin") }
        }
    }
}

/// One put on a ring store for `minio.test` at `ports` (requests end after `ioTimeoutMs`): its
/// outcome, how long it took, and what the store did on the way.
private func putOnce(ports: [Int], ioTimeoutMs: Int, _ outcomes: Outcomes) throws -> UInt64 {
    let name = MovingName(ports: ports)
    let tookMs = Atomic<UInt64>(0)
    try onLoop { loop, done in
        guard let store = movingRingStore(loop, name, ioTimeoutMs: ioTimeoutMs, outcomes) else { return done() }
        let startNs = EventLoop.monotonicNowNs
        store.put("segments/1/block.bin", [1]) { result in
            tookMs.store((EventLoop.monotonicNowNs - startNs) / 1_000_000, ordering: .relaxed)
            outcomes.add("\(result)")
            outcomes.add("connections \(store.connectionsOpened), closed \(store.ringCompletions.close), next \(store.endpoints.next())")
            done()
        }
    }
    return tookMs.load(ordering: .relaxed)
}

/// The connect timeout (`S3Configuration.connectTimeoutMs`, 1 s; ObjectStorage README, "Hot
/// path"): a connect with no answer within it counts as failed and the request goes once more to
/// the next address, inside its own deadline; a connect cut short sooner by the deadline or
/// `cancelPuts` does not count (the store may just be slow to answer). The stalled addresses drop
/// SYNs, as a vanished pod's often do.
@Suite(.serialized) struct StalledConnectTests {
    @Test func anUnansweredConnectMovesTheRequestToTheNextAddressWithinItsDeadline() throws {
        let stalled = try BlackHoledPort()
        defer { stalled.close() }
        let server = LoopbackHTTPServer(requestsPerConnection: 8)
        defer { server.stop() }
        let outcomes = Outcomes()
        let tookMs = try putOnce(ports: [stalled.port, server.port], ioTimeoutMs: 5_000, outcomes)
        #expect(outcomes.all == ["success()", "connections 2, closed 1, next 127.0.0.1:\(server.port)"])
        // One connect timeout, then the live server: far inside the 5 s deadline.
        #expect(tookMs >= 1_000 && tookMs < 2_500, "took \(tookMs) ms")
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 1)
    }

    /// With only a black-holed address a request fails after one connect timeout per try (two
    /// tries), or at its deadline when that comes first: the second try has what is left of the
    /// first's deadline, not a deadline of its own.
    @Test(arguments: [(5_000, true, 2_000..<3_500), (1_500, false, 1_500..<2_500)] as [(Int, Bool, Range<UInt64>)])
    func onlyUnansweredConnectsFailTheRequestAfterTheConnectTimeoutPerTryOrAtTheDeadline(
        ioTimeoutMs: Int, connectErrorExpected: Bool, expectedMs: Range<UInt64>
    ) throws {
        let stalled = try BlackHoledPort()
        defer { stalled.close() }
        let outcomes = Outcomes()
        let tookMs = try putOnce(ports: [stalled.port], ioTimeoutMs: ioTimeoutMs, outcomes)
        let message = connectErrorExpected ? "connect to 127.0.0.1:\(stalled.port): no answer within 1000 ms"
                                           : "no answer within \(ioTimeoutMs) ms"
        #expect(outcomes.all == [
            #"failure(ObjectStorage.StorageError.transport("\#(message)"))"#,
            "connections 2, closed 2, next 127.0.0.1:\(stalled.port)",
        ])
        #expect(expectedMs.contains(tookMs), "took \(tookMs) ms")
    }

    @Test func blockingStoreTriesTheNextAddressAfterAnUnansweredConnect() throws {
        let stalled = try BlackHoledPort()
        defer { stalled.close() }
        let server = LoopbackHTTPServer(requestsPerConnection: 8)
        defer { server.stop() }
        let name = MovingName(ports: [stalled.port, server.port])
        let store = try S3ObjectStore(configuration: movingEndpointConfiguration, resolver: name.resolver)
        var results: [String] = []
        func timedPut() -> UInt64 {
            let startNs = EventLoop.monotonicNowNs
            store.put("segments/1/block.bin", [1]) { results.append("\($0)") }
            return (EventLoop.monotonicNowNs - startNs) / 1_000_000
        }
        let firstMs = timedPut()
        // Only the stalled address left, on a new connection.
        name.move(to: [stalled.port])
        store.transport.close()
        let secondMs = timedPut()
        #expect(results == [
            "success()",
            #"failure(ObjectStorage.StorageError.transport("cannot connect to minio.test:9000: 127.0.0.1:\#(stalled.port): no answer within 1000 ms"))"#,
        ])
        #expect(firstMs >= 1_000 && firstMs < 2_500, "took \(firstMs) ms")
        #expect(secondMs >= 1_000 && secondMs < 2_500, "took \(secondMs) ms")
    }

    @Test func aConnectCutShortWithinTheConnectTimeoutDoesNotCountAsFailed() throws {
        let stalled = try BlackHoledPort()
        defer { stalled.close() }
        let server = LoopbackHTTPServer(requestsPerConnection: 8)
        defer { server.stop() }
        let outcomes = Outcomes()
        try cutShortTwice(ports: [stalled.port, server.port], ioTimeoutMs: 300, cancelAfterMs: 200, outcomes) { _, done in done() }
        #expect(outcomes.all == [
            #"deadline failure(ObjectStorage.StorageError.transport("no answer within 300 ms")), next 127.0.0.1:\#(stalled.port)"#,
            "cancelPuts failure(ObjectStorage.StorageError.cancelled), next 127.0.0.1:\(stalled.port), resolving false",
        ])
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 0)
    }
}
