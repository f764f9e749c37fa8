import BinaryCoding
import Foundation
import GRPC
import Pprof
import Runtime
import Synchronization
import Testing
import TestSupport
@testable import LoadGen

/// The client driver against an in-process gRPC server that answers every Push at once
/// (every `refuseEvery`-th with RESOURCE_EXHAUSTED): pacing, counting and the wire, without
/// a segment-writer's flush latency.
@Suite(.serialized) struct DriverTests {
    static let corpus: Corpus = {
        let bytes = try! TestData.bytes(TestData.pprofDirectory.appendingPathComponent("profile_python"))
        return Corpus(profiles: [try! Corpus.prepare(name: "profile_python", bytes: bytes).get()])
    }()

    static func options(port: UInt16, connections: Int, streams: Int, warmup: Double, duration: Double) -> RunOptions {
        var options = RunOptions(port: port)
        options.connections = connections
        options.streamsPerConnection = streams
        options.warmupSeconds = warmup
        options.durationSeconds = duration
        options.drainTimeoutSeconds = 2
        return options
    }

    @Test func openLoopSendsAtTheRateAndCountsRefusals() throws {
        let server = try InstantServer(refuseEvery: 10)
        defer { server.stop() }
        var options = Self.options(port: server.port, connections: 2, streams: 8, warmup: 0.2, duration: 1)
        options.pushesPerSecond = 200
        let summary = try LoadRunner.run(options, corpus: Self.corpus, server: nil)
        // 200 due in the window, one in ten refused; answers arriving in the window count.
        #expect((190 ... 202).contains(summary.throughput.startedPushes), "\(summary.throughput)")
        #expect((150 ... 200).contains(summary.throughput.ackedProfiles), "\(summary.throughput)")
        let refused = summary.errors.byStatus["RESOURCE_EXHAUSTED"] ?? 0
        #expect((10 ... 30).contains(refused) && summary.errors.total == refused, "\(summary.errors)")
        #expect(summary.errors.messages["RESOURCE_EXHAUSTED"] == "refused by the test server")
        #expect(summary.latencyMs.count + refused == summary.throughput.startedPushes)
        #expect(summary.mode == "open" && summary.server == nil && summary.objects == nil)
        let seen = server.stats.withLock { $0 }
        #expect(seen.invalid == 0 && seen.ids.count == seen.pushes)
    }

    @Test func closedLoopKeepsEveryStreamBusy() throws {
        let server = try InstantServer(refuseEvery: 0)
        defer { server.stop() }
        var options = Self.options(port: server.port, connections: 2, streams: 4, warmup: 0.2, duration: 1)
        options.clientLoops = 2
        let summary = try LoadRunner.run(options, corpus: Self.corpus, server: nil)
        #expect(summary.errors.total == 0 && summary.clientLoops == 2)
        #expect(summary.throughput.ackedProfiles > 50)
        #expect(summary.throughput.compressedMBps > 0 && summary.throughput.decompressedMBps > summary.throughput.compressedMBps)
        #expect(summary.intervals.contains { $0.measured && $0.profiles > 0 })
        // At most streams × connections were ever open at once.
        #expect(server.stats.withLock { $0.concurrentMax } <= 8)
    }

    /// A name with several addresses (a headless Service's pods): connections go to them in turn,
    /// across client loops, so every server gets pushes.
    @Test func connectionsAreSpreadOverTheTargetsAddresses() throws {
        let servers = [try InstantServer(refuseEvery: 0), try InstantServer(refuseEvery: 0), try InstantServer(refuseEvery: 0)]
        defer { for s in servers { s.stop() } }
        var options = Self.options(port: 9095, connections: 6, streams: 2, warmup: 0.1, duration: 0.5)
        options.host = "writers.test"
        options.clientLoops = 2
        let ports = servers.map(\.port)
        options.resolver = { host, port in
            #expect(host == "writers.test" && port == 9095)
            return ports.map { EndpointAddress.literal("127.0.0.1", port: Int($0))! }
        }
        let summary = try LoadRunner.run(options, corpus: Self.corpus, server: nil)
        #expect(summary.errors.total == 0)
        for server in servers {
            let seen = server.stats.withLock { $0 }
            #expect(seen.pushes > 0 && seen.invalid == 0)
            // Two of the six connections each, two streams each.
            #expect(seen.concurrentMax <= 4)
        }
    }

    /// A loopback port where a server listened a moment ago and nothing listens now.
    static func portOfAStoppedServer() throws -> UInt16 {
        let gone = try InstantServer(refuseEvery: 0)
        defer { gone.stop() }
        return gone.port
    }

    /// A pod that went away: the connection pinned to its address moves to the next address,
    /// so the live server ends up with both connections.
    @Test func aConnectionToADeadAddressMovesToTheNext() throws {
        let live = try InstantServer(refuseEvery: 0)
        defer { live.stop() }
        let gonePort = try Self.portOfAStoppedServer()
        var options = Self.options(port: 9095, connections: 2, streams: 1, warmup: 0.3, duration: 0.7)
        options.host = "writers.test"
        let ports = [gonePort, live.port]
        options.resolver = { _, _ in ports.map { EndpointAddress.literal("127.0.0.1", port: Int($0))! } }
        let summary = try LoadRunner.run(options, corpus: Self.corpus, server: nil)
        #expect(summary.throughput.ackedProfiles > 0)
        #expect(live.stats.withLock { $0.connections } == 2, "both connections reached the live server")
        #expect(summary.errors.reconnects >= 1)
    }

    /// Every address of the name stopped answering and the name now resolves elsewhere (pods
    /// replaced): it is resolved again and the run goes on against the new address.
    @Test func aNameWhoseAddressesAllFailIsResolvedAgain() throws {
        let live = try InstantServer(refuseEvery: 0)
        defer { live.stop() }
        let gonePort = try Self.portOfAStoppedServer()
        let lookups = Mutex(0)
        let livePort = live.port
        var options = Self.options(port: 9095, connections: 1, streams: 1, warmup: 0, duration: 2.5)
        options.host = "writers.test"
        options.resolver = { _, _ in
            let n = lookups.withLock { $0 += 1; return $0 }
            return [EndpointAddress.literal("127.0.0.1", port: Int(n == 1 ? gonePort : livePort))!]
        }
        let summary = try LoadRunner.run(options, corpus: Self.corpus, server: nil)
        #expect(lookups.withLock { $0 } >= 2)
        #expect(summary.throughput.ackedProfiles > 0 && live.stats.withLock { $0.pushes } > 0)
    }

    @Test func aRefusedConnectionIsCountedNotFatal() throws {
        let port = try Self.portOfAStoppedServer()
        let options = Self.options(port: port, connections: 1, streams: 1, warmup: 0, duration: 0.3)
        let summary = try LoadRunner.run(options, corpus: Self.corpus, server: nil)
        #expect(summary.throughput.ackedProfiles == 0)
        #expect(summary.errors.reconnects > 0 || summary.errors.byStatus["CONNECT"] != nil)
    }
}

struct ServerStats {
    /// Connections accepted.
    var connections = 0
    var pushes = 0
    var invalid = 0
    var ids = Set<[UInt8]>()
    var concurrent = 0
    var concurrentMax = 0
}

/// A loopback gRPC server on its own loop answering Pushes as soon as they are complete.
final class InstantServer {
    let group: EventLoopGroup
    let port: UInt16
    let stats = SharedStats()
    private let stopped = Atomic<Bool>(false)

    init(refuseEvery: Int) throws {
        var configuration = EventLoopConfiguration()
        configuration.pinThreads = false
        configuration.ringEntries = 0
        group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        let stats = self.stats
        port = try group.listen(host: "127.0.0.1", port: 0) { _ in
            stats.withLock { $0.connections += 1 }
            return InstantPushHandler(stats: stats, refuseEvery: refuseEvery)
        }
        group.start()
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        group.shutdown()
    }
}

/// What the server saw, shared between its loop and the test.
final class SharedStats: Sendable {
    private let state = Mutex(ServerStats())
    func withLock<R>(_ body: (inout ServerStats) -> R) -> R { state.withLock { body(&$0) } }
}

final class InstantPushHandler: ConnectionHandler {
    private let grpc = GRPCServerConnection(configuration: GRPCServerConfiguration(methods: [PushConnection.pushPath]))
    private var out = ByteWriter()
    private let stats: SharedStats
    private let refuseEvery: Int
    private var answered = 0

    init(stats: SharedStats, refuseEvery: Int) {
        self.stats = stats
        self.refuseEvery = refuseEvery
    }

    func connectionOpened(_ connection: Connection) {
        grpc.start(into: &out)
        flush(connection)
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        var input = bytes
        var complete: [CallID] = []
        while let event = grpc.next(&input, into: &out) {
            switch event {
            case .call:
                stats.withLock { s in
                    s.concurrent += 1
                    s.concurrentMax = max(s.concurrentMax, s.concurrent)
                }
            case .message(_, let message):
                let id: [UInt8]? = message.withBytes { raw in (try? PushRequestView(raw)).map { Array($0.profileID) } }
                stats.withLock { s in
                    s.pushes += 1
                    if let id { s.ids.insert(id) } else { s.invalid += 1 }
                }
            case .halfClosed(let call):
                complete.append(call)
            default:
                continue
            }
        }
        for call in complete {
            answered += 1
            stats.withLock { $0.concurrent -= 1 }
            if refuseEvery > 0 && answered % refuseEvery == 0 {
                grpc.finish(call, status: GRPCStatus(.resourceExhausted, "refused by the test server"), into: &out)
            } else {
                [UInt8]().withUnsafeBytes { grpc.respond(call, message: $0, into: &out) }
            }
        }
        flush(connection)
    }

    private func flush(_ connection: Connection) {
        guard !out.bytes.isEmpty else { return }
        out.bytes.withUnsafeBytes { connection.write($0) }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
