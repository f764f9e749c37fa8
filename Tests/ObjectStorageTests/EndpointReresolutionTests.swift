@testable import ObjectStorage
import Runtime
import Synchronization
import Testing

/// A name whose addresses the test moves: each lookup answers 127.0.0.1 at the current ports.
final class MovingName: Sendable {
    let ports: Mutex<[Int]>
    let lookups = Atomic<Int>(0)

    init(ports: [Int]) { self.ports = Mutex(ports) }

    func move(to ports: [Int]) { self.ports.withLock { $0 = ports } }

    var resolver: EndpointResolver {
        { [self] _, _ throws(ResolutionError) in
            lookups.add(1, ordering: .relaxed)
            let current = ports.withLock { $0 }
            guard !current.isEmpty else { throw ResolutionError(host: "minio.test", reason: "no address") }
            var addresses: [EndpointAddress] = []
            for port in current { addresses += try EndpointAddress.resolve("127.0.0.1", port: port) }
            return addresses
        }
    }
}

/// A monotonic clock the test moves.
final class TestClock: Sendable {
    private let ns = Atomic<UInt64>(1_000_000_000_000)
    var nowNs: UInt64 { ns.load(ordering: .relaxed) }
    func advance(ms: UInt64) { ns.add(ms * 1_000_000, ordering: .relaxed) }
}

/// `count` distinct ports on 127.0.0.1 where nothing listens (connects are refused): all bound
/// before any is released, so the kernel cannot hand out the same one twice.
func closedPorts(_ count: Int) -> [Int] {
    let servers = (0..<count).map { _ in LoopbackHTTPServer(requestsPerConnection: 1) }
    for server in servers { server.stop() }
    return servers.map(\.port)
}

let movingEndpointConfiguration = S3Configuration(endpoint: "minio.test:9000", bucketName: "b",
                                                  credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"),
                                                  insecure: true, bucketLookup: .pathStyle)

/// A ring store for `minio.test` (resolved by `name`) on `loop`, or nil after recording why not.
func movingRingStore(_ loop: EventLoop, _ name: MovingName, ioTimeoutMs: Int = 10_000, _ outcomes: Outcomes) -> RingS3ObjectStore? {
    var configuration = movingEndpointConfiguration
    configuration.ioTimeoutMs = ioTimeoutMs
    guard let ring = loop.ring else {
        outcomes.add("no ring")
        return nil
    }
    do {
        return try RingS3ObjectStore(loop: loop, ring: ring, configuration: configuration, resolver: name.resolver)
    } catch {
        outcomes.add("init \(error)")
        return nil
    }
}

/// The S3 endpoint's name is resolved again when its addresses stop answering (Kubernetes moves
/// a MinIO pod; ObjectStorage README, "Hot path").
@Suite(.serialized) struct EndpointReresolutionTests {
    @Test func ringStoreResolvesAgainOnceEveryAddressRefusedAndReachesTheMovedServer() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 8)
        defer { server.stop() }
        let name = MovingName(ports: closedPorts(2))
        let livePort = server.port
        let outcomes = Outcomes()
        try onLoop { loop, done in
            guard let store = movingRingStore(loop, name, outcomes) else { return done() }
            name.move(to: [livePort])
            // Retried every 20 ms, as the uploader retries a failed put.
            func attempt(_ n: Int) {
                store.put("segments/1/block.bin", [1]) { result in
                    if case .success = result {
                        outcomes.add("put succeeded")
                        return done()
                    }
                    // One refused address of two is not enough to resolve again; both are.
                    if n < 2 { outcomes.add("failure \(n + 1): resolving \(store.endpoints.resolutionPending)") }
                    guard n < 50 else {
                        outcomes.add("gave up: \(result)")
                        return done()
                    }
                    loop.scheduleTimer(afterMs: 20) { _ in attempt(n + 1) }
                }
            }
            attempt(0)
        }
        #expect(outcomes.all == ["failure 1: resolving false", "failure 2: resolving true", "put succeeded"])
        // Start-up plus one resolution: the retries while it ran did not start more.
        #expect(name.lookups.load(ordering: .relaxed) == 2)
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 1)
    }

    /// The policy alone (no sockets; the ports need not listen): one failed address of two is not
    /// enough, a list older than 30 s is, one lookup per second at most, a failed lookup keeps the list.
    @Test func addressListResolvesAgainWhenStaleAtMostOncePerSecond() throws {
        let name = MovingName(ports: [1001, 1002])
        let clock = TestClock()
        let list = try EndpointAddressList(host: "minio.test", port: 9000, resolver: name.resolver, clockNs: { clock.nowNs })
        /// Takes the lookup's result as the next connect would.
        func settle() -> Bool { waitUntil(timeoutMs: 5_000) { _ = list.next(); return !list.resolutionPending } }
        #expect(list.next().description == "127.0.0.1:1001")
        list.connectFailed("127.0.0.1:1001")
        #expect(!list.resolutionPending)
        #expect(list.next().description == "127.0.0.1:1002")
        // A successful connect forgets earlier failures: 1002 failing now is not every address.
        list.connected()
        list.connectFailed("127.0.0.1:1002")
        #expect(!list.resolutionPending)
        // Older than 30 s: one failed connect is enough.
        clock.advance(ms: 31_000)
        name.move(to: [1003])
        list.connectFailed("127.0.0.1:1001")
        #expect(list.resolutionPending)
        #expect(settle())
        #expect(list.addresses.map(\.description) == ["127.0.0.1:1003"])
        // Every address failed, but within a second of the last lookup: none now.
        list.connectFailed("127.0.0.1:1003")
        #expect(!list.resolutionPending)
        // A second later the name no longer resolves: the lookup runs and the list stays.
        clock.advance(ms: 1_000)
        name.move(to: [])
        list.connectFailed("127.0.0.1:1003")
        #expect(list.resolutionPending)
        #expect(settle())
        #expect(list.addresses.map(\.description) == ["127.0.0.1:1003"])
        #expect(name.lookups.load(ordering: .relaxed) == 3)
    }

    @Test func blockingStoreResolvesForEveryNewConnection() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 8)
        defer { server.stop() }
        let name = MovingName(ports: closedPorts(1))
        let store = try S3ObjectStore(configuration: movingEndpointConfiguration, resolver: name.resolver)
        var results: [String] = []
        store.put("segments/1/block.bin", [1]) { results.append("\($0)") }
        name.move(to: [server.port])
        store.put("segments/1/block.bin", [1]) { results.append("\($0)") }
        store.put("segments/2/block.bin", [2]) { results.append("\($0)") }
        #expect(results.count == 3)
        #expect(results[0].contains("cannot connect to minio.test:9000"))
        #expect(results.dropFirst() == ["success()", "success()"])
        // One lookup per connection: the refused one and the kept-alive one.
        #expect(name.lookups.load(ordering: .relaxed) == 2)
    }
}
