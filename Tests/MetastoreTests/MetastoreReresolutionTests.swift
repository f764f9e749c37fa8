import Metastore
import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `metastore.test`, whose addresses the test moves: each lookup answers 127.0.0.1 at the
/// current ports, and counts lookups made on the client's loop thread (there must be none).
final class MovingMetastoreName: Sendable {
    static let node = MetastoreNode(id: "metastore.test", host: "metastore.test", port: 9095)
    private let ports: Mutex<[Int]>
    let clientLoop = Mutex<EventLoop?>(nil)
    let lookups = Counter()
    let lookupsOnLoop = Counter()

    init(ports: [Int]) { self.ports = Mutex(ports) }

    func move(to ports: [Int]) { self.ports.withLock { $0 = ports } }

    var resolver: EndpointResolver {
        { [self] host, _ throws(ResolutionError) in
            lookups.add()
            if clientLoop.withLock({ $0?.isInLoop ?? false }) { lookupsOnLoop.add() }
            let current = ports.withLock { $0 }
            guard !current.isEmpty else { throw ResolutionError(host: host, reason: "Name or service not known") }
            return current.map { EndpointAddress.literal("127.0.0.1", port: $0)! }
        }
    }

    /// The client's configuration as the server makes it: the name resolved once, before the
    /// loop runs (so that lookup is not on the loop either).
    func configuration(timeoutNs: UInt64) -> MetastoreClientConfiguration {
        var configuration = MetastoreClientConfiguration(endpoints: MetastoreAddresses.resolve([Self.node], resolver: resolver).endpoints)
        configuration.resolver = resolver
        configuration.timeoutNs = timeoutNs
        return configuration
    }
}

/// `count` distinct ports on 127.0.0.1 where nothing listens (connects are refused): all bound
/// before any is released, so the kernel cannot hand out the same one twice.
func refusedPorts(_ count: Int) throws -> [Int] {
    let sockets = try (0..<count).map { _ in try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false) }
    let ports = try sockets.map { Int(try $0.localPort) }
    for socket in sockets { socket.close() }
    return ports
}

/// Runs `count` AddBlocks one after another on a fresh loop's client; each outcome as text
/// ("ok" or the error). `configure` adjusts the client's configuration (more nodes, timeouts).
func addBlocks(_ name: MovingMetastoreName, count: Int, timeoutNs: UInt64 = 2_000_000_000,
               between: @escaping @Sendable (Int) -> Void = { _ in },
               configure: (inout MetastoreClientConfiguration) -> Void = { _ in }) throws -> [String] {
    let group = try EventLoopGroup(loopCount: 1, configuration: testLoopConfiguration)
    group.start()
    defer { group.shutdown() }
    let loop = group.loops[0]
    var configured = name.configuration(timeoutNs: timeoutNs)
    configure(&configured)
    let configuration = configured
    name.clientLoop.withLock { $0 = loop }
    let outcomes = Mutex<[String]>([])
    #expect(loop.post {
        let client = MetastoreClient(loop: loop, configuration: configuration)
        func call(_ n: Int) {
            guard n < count else { return }
            between(n)
            client.addBlock([0x0A, 0x00]) { error in
                outcomes.withLock { $0.append(error.map { "\($0)" } ?? "ok") }
                call(n + 1)
            }
        }
        call(0)
    })
    for _ in 0..<10_000 where outcomes.withLock({ $0.count }) < count { usleep(1000) }
    return outcomes.withLock { $0 }
}

/// `-metastore.address` names behave like grpc-go's `dns:///` resolver: every address is a
/// node, and a name is resolved again, off the loop, when its addresses stop answering.
@Suite(.serialized) struct MetastoreReresolutionTests {
    @Test func everyAddressOfANameIsTriedSoARefusedOneFallsThroughToTheLiveOne() throws {
        let metastore = try MetastoreDouble()
        defer { metastore.stop() }
        let name = MovingMetastoreName(ports: try refusedPorts(1) + [metastore.port])
        #expect(try addBlocks(name, count: 2) == ["ok", "ok"])
        #expect(metastore.calls.value == 2)
        // One refused address of two is no reason to ask DNS again.
        #expect(name.lookups.value == 1)
    }

    @Test func aNameWhoseAddressMovedIsResolvedAgainOffTheLoopAfterItsConnectFails() throws {
        let metastore = try MetastoreDouble()
        defer { metastore.stop() }
        let name = MovingMetastoreName(ports: try refusedPorts(1))
        let livePort = metastore.port
        // The pod restarts with a new address after the client resolved the old one.
        let outcomes = try addBlocks(name, count: 2) { n in if n == 0 { name.move(to: [livePort]) } }
        #expect(outcomes == ["ok", "ok"])
        #expect(metastore.calls.value == 2)
        // Start-up plus one lookup after the refused connect, on a thread of its own.
        #expect(name.lookups.value == 2)
        #expect(name.lookupsOnLoop.value == 0)
    }

    @Test func aNameThatDoesNotResolveAtStartUpFailsUnavailableUntilItDoes() throws {
        let metastore = try MetastoreDouble()
        defer { metastore.stop() }
        let name = MovingMetastoreName(ports: [])
        let livePort = metastore.port
        let outcomes = try addBlocks(name, count: 2, timeoutNs: 1_500_000_000) { n in if n == 1 { name.move(to: [livePort]) } }
        #expect(outcomes.count == 2)
        #expect(outcomes.first?.contains("no address for metastore metastore.test:9095 yet") == true, "\(outcomes)")
        #expect(outcomes.last == "ok")
        #expect(metastore.calls.value == 1)
        #expect(name.lookupsOnLoop.value == 0)
    }
}
