@testable import ObjectStorage
import Runtime
import Testing
import TestSupport

/// On a ring store for `minio.test` at `ports` whose attempts end after `ioTimeoutMs`: one put
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

/// The stalled-connect rule (ObjectStorage README, "Hot path"): a connect cut short by the
/// deadline or `cancelPuts` after 1 s without an answer counts as failed, so the next attempt goes
/// to the next address; cut short sooner, it does not (the store may just be slow to answer).
/// The stalled addresses drop SYNs, as a vanished pod's often do.
@Suite(.serialized) struct StalledConnectTests {
    @Test func aConnectCutShortAfterASecondCountsAsFailedAndTheNextAttemptTakesTheNextAddress() throws {
        let first = try BlackHoledPort(), second = try BlackHoledPort()
        defer { first.close(); second.close() }
        let server = LoopbackHTTPServer(requestsPerConnection: 8)
        defer { server.stop() }
        let outcomes = Outcomes()
        try cutShortTwice(ports: [first.port, second.port, server.port], ioTimeoutMs: 1_300, cancelAfterMs: 1_100, outcomes) { store, done in
            store.put("segments/3/block.bin", [3]) { result in
                outcomes.add("\(result)")
                done()
            }
        }
        #expect(outcomes.all == [
            #"deadline failure(ObjectStorage.StorageError.transport("no answer within 1300 ms")), next 127.0.0.1:\#(second.port)"#,
            // Two of three addresses failed: not yet a reason to resolve the name again.
            "cancelPuts failure(ObjectStorage.StorageError.cancelled), next 127.0.0.1:\(server.port), resolving false",
            "success()",
        ])
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 1)
    }

    @Test func aConnectCutShortWithinASecondDoesNotCountAsFailed() throws {
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
