@testable import ObjectStorage
import Runtime
import Synchronization
import Testing

/// `minio.test` at `ports` for a ring store whose attempts end after `ioTimeoutMs`; `body` runs on
/// its loop and reports `done`.
private func onStore(ports: [Int], ioTimeoutMs: Int, _ outcomes: Outcomes,
                     _ body: @escaping @Sendable (EventLoop, RingS3ObjectStore, @escaping @Sendable () -> Void) -> Void) throws {
    let name = MovingName(ports: ports)
    var configuration = movingEndpointConfiguration
    configuration.ioTimeoutMs = ioTimeoutMs
    let storeConfiguration = configuration
    try onLoop { loop, done in
        guard let ring = loop.ring else {
            outcomes.add("no ring")
            return done()
        }
        do {
            body(loop, try RingS3ObjectStore(loop: loop, ring: ring, configuration: storeConfiguration, resolver: name.resolver), done)
        } catch {
            outcomes.add("init \(error)")
            done()
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
        try onStore(ports: [first.port, second.port, server.port], ioTimeoutMs: 1_300, outcomes) { loop, store, done in
            func next() -> String { store.endpoints.next().description }
            outcomes.add("to \(next())")
            // Ended by its deadline (1.3 s).
            store.put("segments/1/block.bin", [1]) { result in
                outcomes.add("deadline \(result), next \(next())")
                // Ended by `cancelPuts` (1.1 s).
                store.put("segments/2/block.bin", [2]) { result in
                    outcomes.add("cancelPuts \(result), next \(next()), resolving \(store.endpoints.resolutionPending)")
                    store.put("segments/3/block.bin", [3]) { result in
                        outcomes.add("\(result)")
                        done()
                    }
                }
                loop.scheduleTimer(afterMs: 1_100) { _ in store.cancelPuts("segments/2/block.bin") }
            }
        }
        #expect(outcomes.all == [
            "to 127.0.0.1:\(first.port)",
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
        try onStore(ports: [stalled.port, server.port], ioTimeoutMs: 300, outcomes) { loop, store, done in
            func next() -> String { store.endpoints.next().description }
            store.put("segments/1/block.bin", [1]) { result in
                outcomes.add("deadline \(result), next \(next())")
                store.put("segments/2/block.bin", [2]) { result in
                    outcomes.add("cancelPuts \(result), next \(next())")
                    done()
                }
                loop.scheduleTimer(afterMs: 200) { _ in store.cancelPuts("segments/2/block.bin") }
            }
        }
        #expect(outcomes.all == [
            #"deadline failure(ObjectStorage.StorageError.transport("no answer within 300 ms")), next 127.0.0.1:\#(stalled.port)"#,
            "cancelPuts failure(ObjectStorage.StorageError.cancelled), next 127.0.0.1:\(stalled.port)",
        ])
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 0)
    }
}
