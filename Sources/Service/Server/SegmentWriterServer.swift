import BinaryCoding
import GRPC
import HTTP2
import Membership
import Metastore
import ObjectStorage
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The segment-writer process: event loops serving gRPC Push and health on the gRPC port and
/// `/ready`, `/metrics`, `/healthz` on the HTTP port, per-shard accumulators flushed every
/// segment duration, and the uploader that makes segments durable and registers them before
/// Pushes are answered (ARCHITECTURE.md, "One Push, socket to acknowledgement").
public final class SegmentWriterServer {
    public let config: SegmentWriterConfig
    public let log: Log
    public let readiness = Readiness()
    public let metrics = SegmentWriterMetrics()
    private let group: EventLoopGroup
    private let context: ServerContext
    public private(set) var grpcPort: UInt16 = 0
    /// `-segment-writer.memory-budget-bytes` and what is charged to it now.
    var memoryBudget: MemoryBudget { context.budget }
    public private(set) var httpPort: UInt16 = 0
    /// Heartbeats the ring entry from `start()` until the shutdown begins.
    private var ringRegistration: RingRegistration?
    /// Keeps IAM credentials fresh until the shutdown ends; nil with fixed credentials.
    private let credentialsRefresher: AWSCredentialsRefresher?

    public convenience init(config: SegmentWriterConfig, log: Log) throws {
        try self.init(config: config, log: log, makeStore: nil)
    }

    /// `makeStore` replaces the configured backend's per-loop store (tests: slow or failing stores).
    init(config: SegmentWriterConfig, log: Log, makeStore: ((EventLoop) throws -> any ObjectStore)?) throws {
        self.config = config
        self.log = log
        let storage: StorageConfiguration
        (storage, credentialsRefresher) = try Self.storageConfiguration(config, log: log)
        let loopCount = config.segmentWriter.eventLoops > 0 ? config.segmentWriter.eventLoops : EventLoopGroup.allowedCPUCount
        var loopConfig = EventLoopConfiguration()
        loopConfig.timersMax = LoopTimerBudget(shardsMax: config.segmentWriter.shardsMax).timersMax
        loopConfig.acceptPaused = { error, retryInMs in
            log.warn("accept failed, retrying", ["err": "\(error)", "retry_in_ms": String(retryInMs)])
        }
        let refused = metrics.tcpConnectionsRefused(), refusalLog = RateLimitedLog(log, everyNs: 10_000_000_000)
        let slots = String(loopConfig.connectionsMax)
        loopConfig.connectionRefused = { port in
            refused.increment()
            refusalLog.warn("connection refused: every connection slot of its event loop is taken",
                            ["port": String(port), "slots_per_loop": slots])
        }
        if !config.segmentWriter.ioUringEnabled {
            loopConfig.ringEntries = 0
            log.info("io_uring disabled by configuration, uploads use blocking POSIX calls on worker threads")
        }
        do {
            group = try EventLoopGroup(loopCount: loopCount, configuration: loopConfig)
        } catch {
            // Container runtimes' default seccomp profiles may refuse io_uring_setup (Runtime README).
            log.warn("io_uring unavailable, uploads use blocking POSIX calls on worker threads", ["err": "\(error)"])
            loopConfig.ringEntries = 0
            group = try EventLoopGroup(loopCount: loopCount, configuration: loopConfig)
        }
        context = ServerContext(config: config, log: log, readiness: readiness, metrics: metrics,
                                hostname: ByteString(Self.hostname()),
                                metastoreEndpoints: try Self.metastoreEndpoints(config.metastore.address, tlsEnabled: config.metastore.tlsEnabled, log: log),
                                metastoreTLS: try config.metastore.makeTLS())
        let context = self.context
        let loops = try group.loops.map { loop in
            try LoopContext(server: context, loop: loop, inboxCapacity: 4096,
                            store: makeStore?(loop) ?? storage.makeLoopStore(on: loop))
        }
        context.install(loops: loops)
        if config.segmentWriter.bucketHealthCheckEnabled {
            // Upstream bounds the whole check by this timeout and only logs a failure.
            var checked = storage
            checked.s3?.ioTimeoutMs = Self.startUpTimeoutMs(config)
            checked.s3?.requestTimeoutMs = Self.startUpTimeoutMs(config)
            try checked.makeBlockingStore().checkHealth { result in
                if case .failure(let error) = result { log.warn("bucket health check failed", ["err": "\(error)"]) }
            }
        }
    }

    /// Binds both ports on every loop (SO_REUSEPORT), starts the loops, and turns serving on.
    public func start() throws {
        var grpcConfig = GRPCServerConfiguration(methods: GRPCConnectionHandler.methods)
        grpcConfig.http2.settings.maxConcurrentStreams = config.server.grpcMaxConcurrentStreams
        grpcConfig.maxReceiveMessageBytes = config.server.grpcMaxRecvMsgSizeBytes
        grpcConfig.maxDecompressedMessageBytes = config.server.grpcMaxRecvMsgSizeBytes
        grpcConfig.receiveBudget = context.budget
        grpcConfig.http2.pingPolicy = HTTP2PingPolicy(config.server)
        let loops = context.loops
        let grpcServerConfig = grpcConfig
        let grpcLimits = GRPCConnectionLimits(config.server)
        let grpcHost = Self.listenHost(config.server.grpcListenAddress)
        let httpHost = Self.listenHost(config.server.httpListenAddress)
        let grpcListenPort = UInt16(config.server.grpcListenPort), httpListenPort = UInt16(config.server.httpListenPort)
        let grpcBound: (host: String, port: UInt16), httpBound: (host: String, port: UInt16)
        do {
            grpcBound = try group.bind(host: grpcHost, port: grpcListenPort, limit: Self.connectionLimit(config.server.grpcConnLimit)) { loop in
                GRPCConnectionHandler(context: loops[loop.index], configuration: grpcServerConfig, limits: grpcLimits)
            }
        } catch {
            throw ListenError(server: "gRPC", address: Self.listenDescription(grpcHost, port: grpcListenPort), error: error)
        }
        let readiness = self.readiness, metrics = self.metrics
        let httpConnections = metrics.tcpConnections(protocol: "http")
        metrics.tcpConnectionsLimit(protocol: "grpc").set(Int64(max(0, config.server.grpcConnLimit)))
        metrics.tcpConnectionsLimit(protocol: "http").set(Int64(max(0, config.server.httpConnLimit)))
        let httpTimeouts = OperationsHTTPHandler.Timeouts(
            readHeaderNs: config.server.httpReadHeaderTimeoutNs, readNs: config.server.httpReadTimeoutNs, idleNs: config.server.httpIdleTimeoutNs, writeNs: config.server.httpWriteTimeoutNs)
        do {
            httpBound = try group.bind(host: httpHost, port: httpListenPort, limit: Self.connectionLimit(config.server.httpConnLimit)) { _ in
                OperationsHTTPHandler(readiness: readiness, metrics: metrics, connections: httpConnections, timeouts: httpTimeouts)
            }
        } catch {
            throw ListenError(server: "HTTP", address: Self.listenDescription(httpHost, port: httpListenPort), error: error)
        }
        grpcPort = grpcBound.port
        httpPort = httpBound.port
        group.start()
        // The hosts the listeners got: every interface is `::`, or `0.0.0.0` without IPv6.
        log.info("server listening", ["grpc": EndpointAddress.hostPort(grpcBound.host, port: Int(grpcPort)),
                                      "http": EndpointAddress.hostPort(httpBound.host, port: Int(httpPort)),
                                      "loops": String(group.loops.count)])
        // Made before serving begins: in a ring, `/ready` waits for the entry from the start.
        ringRegistration = makeRingRegistration(grpcPort: grpcPort)
        readiness.advance(to: .serving)
        log.info("segment-writer serving", ["segment_duration_ms": String(config.segmentWriter.segmentDurationNs / 1_000_000),
                                            "storage": config.storage.summary])
        ringRegistration?.start()
    }

    /// What comes before the drain (ingest-and-ops.md §5.5 steps 1–4), on the thread that took
    /// the first termination signal; the loops go on serving while it waits in `sigtimedwait`,
    /// and a second SIGTERM/SIGINT ends the wait at once.
    /// - `-shutdown-delay`: upstream sleeps before stopping anything so load balancers and
    ///   distributors stop sending first; Pushes and gRPC health go on as before. Beyond upstream
    ///   (which keeps reporting ready), `/ready` answers 503, so a Kubernetes readiness probe
    ///   takes the pod out of its Service before the drain.
    /// - `-segment-writer.min-ready-duration`, when the writer is in a ring: upstream's lifecycler
    ///   turns the entry LEAVING, then Pushes are still taken this long, from distributors whose
    ///   ring view is not updated yet; gRPC health is NOT_SERVING meanwhile. Ours: the entry turns
    ///   LEAVING when the signal arrives (see `leaveRing`), so this counts from then, and the
    ///   delay's time counts towards it. Without a ring no distributor can hold a stale view, so
    ///   nothing is waited for (upstream sleeps anyway).
    public func delayShutdown() {
        let signalledNs = EventLoop.monotonicNowNs
        let inRing = ringRegistration != nil
        let grace = inRing ? max(0, config.ring.minReadyDurationNs) : 0
        guard config.shutdownDelayNs > 0 || grace > 0 else { return }
        leaveRing()
        if config.shutdownDelayNs > 0 {
            readiness.advance(to: .delayingShutdown)
            log.info("shutdown delayed: still serving Pushes, /ready answers 503",
                     ["delay": GoDuration.format(nanoseconds: config.shutdownDelayNs)])
            if let signal = ShutdownSignals.wait(timeoutNs: UInt64(config.shutdownDelayNs)) {
                log.info("second shutdown signal: the rest of the shutdown delay is skipped", ["signal": String(signal)])
                return
            }
        }
        let elapsed = Int64(EventLoop.monotonicNowNs &- signalledNs)
        guard grace > elapsed else { return }
        readiness.advance(to: .leavingRing)
        runOnEveryLoop { $0.announceNotServing() }
        log.info("ring entry leaving: still taking Pushes from distributors with an older ring view, gRPC health NOT_SERVING",
                 ["min_ready_duration": GoDuration.format(nanoseconds: grace),
                  "remaining": GoDuration.format(nanoseconds: grace - elapsed)])
        if let signal = ShutdownSignals.wait(timeoutNs: UInt64(grace - elapsed)) {
            log.info("second shutdown signal: the rest of the ring grace is skipped", ["signal": String(signal)])
        }
    }

    /// Graceful shutdown (ingest-and-ops.md §5.5): refuse new Pushes, flush every shard, wait
    /// for the pending acknowledgements (bounded by `-server.graceful-shutdown-timeout`),
    /// GOAWAY, stop the loops. True when nothing was left pending.
    @discardableResult
    public func shutdown() -> Bool {
        leaveRing()
        let healthAnnounced = readiness.state == .leavingRing
        readiness.advance(to: .draining)
        log.info("draining: new Pushes are refused, flushing every shard")
        runOnEveryLoop { loop in
            if !healthAnnounced { loop.announceNotServing() }
            loop.flushAllShards()
        }
        let deadlineNs = EventLoop.monotonicNowNs &+ UInt64(config.server.gracefulShutdownTimeoutNs)
        var clean = true
        while context.pushesInFlight.load(ordering: .sequentiallyConsistent) > 0
            || context.uploadsInFlight.load(ordering: .sequentiallyConsistent) > 0 {
            guard EventLoop.monotonicNowNs < deadlineNs else {
                clean = false
                log.warn("graceful shutdown timeout: stopping with Pushes pending",
                         ["pushes": String(context.pushesInFlight.load(ordering: .relaxed)),
                          "uploads": String(context.uploadsInFlight.load(ordering: .relaxed))])
                break
            }
            usleep(2000)
        }
        runOnEveryLoop { $0.goAwayAll() }
        readiness.advance(to: .stopped)
        group.shutdown()
        credentialsRefresher?.stop()
        log.info("segment-writer stopped", ["clean": String(clean)])
        return clean
    }

    /// The ring entry becomes LEAVING (LEFT with `-segment-writer.unregister-on-shutdown`) as
    /// the shutdown begins, before the delay: distributors then send Pushes elsewhere while this
    /// writer still answers them (the delay and the ring grace), as the delay's 503 on `/ready`
    /// does for load balancers.
    private func leaveRing() {
        ringRegistration?.leave()
    }

    /// Runs `job` on every loop and waits until all have run it.
    private func runOnEveryLoop(_ job: @escaping @Sendable (LoopContext) -> Void) {
        let done = Atomic<Int>(0)
        var posted = 0
        for loop in context.loops {
            if loop.loop.post({ job(loop); done.add(1, ordering: .sequentiallyConsistent) }) { posted += 1 }
        }
        while done.load(ordering: .sequentiallyConsistent) < posted { usleep(500) }
    }

    /// `-metastore.address` parsed (a malformed entry fails start-up) and resolved once here, so
    /// the loops start with every address of every name. A name that does not resolve yet is
    /// not fatal (in Kubernetes the metastore's headless Service has no address until its pods
    /// are ready): it is logged, each loop's client resolves it again when a call needs it, and
    /// until then AddBlock fails UNAVAILABLE (the DLQ fallback), as upstream's grpc-go channel
    /// keeps resolving in the background.
    static func metastoreEndpoints(_ address: String, tlsEnabled: Bool, log: Log) throws(MetastoreAddressError) -> [MetastoreEndpoint] {
        let nodes = try MetastoreAddresses.parse(address)
        guard !nodes.isEmpty else { return [] }
        let (endpoints, failures) = MetastoreAddresses.resolve(nodes)
        for failure in failures {
            log.warn("metastore address does not resolve yet; resolved again when AddBlock needs it", ["host": failure.host, "err": failure.reason])
        }
        log.info("metastore client", ["nodes": endpoints.map { endpoint in
            "\(endpoint.node.id)=\(endpoint.addresses.map(\.description).joined(separator: "|"))"
        }.joined(separator: ","), "tls": String(tlsEnabled)])
        return endpoints
    }

    /// `-server.grpc-conn-limit` / `-server.http-conn-limit`: none at 0 or below, as dskit.
    static func connectionLimit(_ maximum: Int) -> ConnectionLimit? {
        maximum > 0 ? ConnectionLimit(maximum: maximum) : nil
    }

    /// The listeners' host (`ListeningSocket.listen`): empty = every interface, IPv4 and IPv6,
    /// as upstream's dskit server (Go's `net.Listen("tcp", ":9095")` is dual-stack), so
    /// distributors reach pods by IPv6 address too; `0.0.0.0` is that wildcard as well (Go
    /// listens dual-stack on it for "tcp"); `localhost` = 127.0.0.1; an IPv6 literal with or
    /// without brackets (`[::1]` is how upstream's flag takes it).
    static func listenHost(_ address: String) -> String {
        switch address {
        case "0.0.0.0": ""
        case "localhost": "127.0.0.1"
        case _ where address.hasPrefix("[") && address.hasSuffix("]"): String(address.dropFirst().dropLast())
        default: address
        }
    }

    /// `host:port` for the log, as Go prints a listener's address: `[::]:9095` for every interface.
    static func listenDescription(_ host: String, port: UInt16) -> String {
        EndpointAddress.hostPort(host.isEmpty ? "::" : host, port: Int(port))
    }

    static func hostname() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A listener that could not be opened, with the address it was given (a bare errno named
/// neither the server nor the address).
struct ListenError: Error, CustomStringConvertible {
    let server: String
    let address: String
    let error: Errno

    var description: String { "cannot listen on the \(server) address \(address): \(error)" }
}
