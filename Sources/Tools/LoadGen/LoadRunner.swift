import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Everything one run needs besides the corpus.
public struct RunOptions: Sendable {
    /// An IP literal or a name, resolved when the run starts; connections are spread over its
    /// addresses round-robin (a headless Service's pods, say), and the name is resolved again
    /// when its addresses stop answering.
    public var host = "127.0.0.1"
    public var port: UInt16
    public var connections = 8
    public var streamsPerConnection = 64
    public var clientLoops = 1
    /// nil: closed loop (every stream always busy); otherwise the open-loop rate.
    public var pushesPerSecond: Double?
    public var warmupSeconds = 2.0
    public var durationSeconds = 10.0
    /// After the window, how long answers to pushes still in flight are awaited.
    public var drainTimeoutSeconds = 10.0
    public var backlogMax = 100_000
    public var shape = WorkloadShape()
    public var seed: UInt64 = 0x5EED
    /// SIGTERM to the spawned server the moment the window ends, with pushes still in flight.
    public var terminateServerAtWindowEnd = false
    /// Resolves `host` (getaddrinfo; tests inject their own).
    public var resolver: EndpointResolver = EndpointAddress.resolve

    public init(port: UInt16) { self.port = port }

    /// `--target`: `host:port`, `[ipv6]:port` or `name:port`; nil when malformed. `localhost` is
    /// 127.0.0.1, not ::1 (which getaddrinfo may give first): that reaches a server on its
    /// dual-stack default and one told to listen on 127.0.0.1 (as `ServerProcess` does) alike.
    public init?(target: String) {
        guard let (host, port) = EndpointAddress.splitHostPort(target) else { return nil }
        self.init(port: port)
        self.host = host == "localhost" ? "127.0.0.1" : host
    }
}

/// Runs the client loops for warm-up + duration, refreshing payloads and sampling the
/// server every second on the calling thread, and reduces what they counted.
public enum LoadRunner {
    /// With `ledger`, every loop records the profile ids it sent and was told OK for (see
    /// `DurabilityAudit`). The object census reads `bucket`, else the spawned server's.
    public static func run(_ options: RunOptions, corpus: Corpus, server: ServerProcess?, bucket: ServerBucket? = nil,
                           progress: ((String) -> Void)? = nil, ledger: AuditLedger? = nil) throws -> RunSummary {
        precondition(!corpus.profiles.isEmpty, "an empty corpus")
        precondition(options.connections > 0 && options.streamsPerConnection > 0 && options.clientLoops > 0)
        // Blocking lookup, once, before any loop runs.
        let addresses = try options.resolver(options.host, Int(options.port))
        precondition(!addresses.isEmpty, "a resolver returned no address")
        let authority = EndpointAddress.hostPort(options.host, port: Int(options.port))
        let loopCount = min(options.clientLoops, options.connections)
        var configuration = EventLoopConfiguration()
        configuration.pinThreads = false
        configuration.ringEntries = 0
        configuration.connectionsMax = max(64, options.connections * 2)
        // A whole window of large pushes may be queued per connection: reading must not pause for it.
        configuration.outboundHighWatermarkBytes = 64 << 20
        configuration.outboundLowWatermarkBytes = 16 << 20
        configuration.outboundBytesMax = 512 << 20
        let group = try EventLoopGroup(loopCount: loopCount, configuration: configuration)

        var refreshMaxMs = 0.0
        let board = PayloadBoard(timedPayloads(corpus, options.shape.compression, &refreshMaxMs))
        let clock = RunClock(startNs: EventLoop.monotonicNowNs + 20_000_000, warmupNs: UInt64(options.warmupSeconds * 1e9),
                             durationNs: UInt64(options.durationSeconds * 1e9))
        let collector = RunCollector(clock: clock, loopCount: loopCount)
        var drivers: [LoopDriver] = []
        var firstConnection = 0
        for (i, loop) in group.loops.enumerated() {
            let share = options.connections / loopCount + (i < options.connections % loopCount ? 1 : 0)
            let plan = DriverPlan(addresses: addresses, host: options.host, port: Int(options.port), resolver: options.resolver,
                                  firstConnection: firstConnection, authority: authority, connections: share,
                                  streamsPerConnection: options.streamsPerConnection,
                                  pushesPerSecond: options.pushesPerSecond.map { $0 * Double(share) / Double(options.connections) },
                                  clock: clock, drainTimeoutNs: UInt64(options.drainTimeoutSeconds * 1e9),
                                  backlogMax: options.backlogMax, seed: options.seed &+ UInt64(i) &* 0x9E37_79B9, shape: options.shape,
                                  ledger: ledger)
            firstConnection += share
            let driver = LoopDriver(loop: loop, plan: plan, board: board, collector: collector)
            driver.start()
            drivers.append(driver)
        }
        group.start()

        var samples: [ResourceSample] = []
        var ownSamples: [ResourceSample] = []
        var nextSecondNs = clock.startNs + 1_000_000_000
        var terminated = false
        while collector.loopsFinished < loopCount {
            usleep(10_000)
            let now = EventLoop.monotonicNowNs
            if options.terminateServerAtWindowEnd, !terminated, now >= clock.measureEndNs {
                server?.signalTermination()
                terminated = true
            }
            guard now >= nextSecondNs else { continue }
            nextSecondNs += 1_000_000_000
            if now < clock.measureEndNs { board.publish(timedPayloads(corpus, options.shape.compression, &refreshMaxMs)) }
            if let sample = server?.sample() { samples.append(sample) }
            if let own = ResourceSample.read(pid: getpid()) { ownSamples.append(own) }
            progress?(progressLine(now: now, clock: clock, latest: collector.latest, rss: samples.last?.rssBytes))
        }
        if let sample = server?.sample() { samples.append(sample) }
        group.shutdown()
        withExtendedLifetime(drivers) {}

        let (intervals, totals) = collector.close()
        let windowSeconds = options.durationSeconds
        return RunSummary(
            mode: options.pushesPerSecond == nil ? "closed" : "open", targetPushesPerSec: options.pushesPerSecond,
            connections: options.connections, streamsPerConnection: options.streamsPerConnection, clientLoops: loopCount,
            warmupSeconds: options.warmupSeconds, durationSeconds: windowSeconds, workload: options.shape,
            corpusFiles: corpus.profiles.map(\.name), corpusSkipped: corpus.skipped.map { "\($0.name): \($0.reason)" },
            throughput: .init(ackedProfiles: totals.acked, profilesPerSec: Double(totals.acked) / windowSeconds,
                              compressedMBps: Double(totals.sentBytes) / 1e6 / windowSeconds,
                              decompressedMBps: Double(totals.rawBytes) / 1e6 / windowSeconds,
                              compressedBytes: totals.sentBytes, decompressedBytes: totals.rawBytes, startedPushes: totals.started),
            latencyMs: .init(totals.histogram),
            errors: .init(total: totals.errors + totals.unanswered, byStatus: totals.errorsByStatus, messages: totals.firstErrorMessage,
                          unanswered: totals.unanswered, reconnects: totals.reconnects),
            server: server.flatMap { RunSummary.serverUsage(pid: $0.pid, samples: samples, clock: clock) },
            clientCpuCores: RunSummary.serverUsage(pid: getpid(), samples: ownSamples, clock: clock)?.cpuCores ?? 0,
            objects: (bucket ?? server?.bucket).flatMap { b in
                // A bucket that cannot be listed now leaves the census out, not the run's figures.
                guard let openTimes = try? ObjectCensus.scan(b.store) else { return nil }
                let offsetMs = EventLoop.realtimeNowNs / 1_000_000 - Int64(EventLoop.monotonicNowNs / 1_000_000)
                return ObjectCensus(openTimes: openTimes,
                                    windowStartUnixMs: UInt64(Int64(clock.measureStartNs / 1_000_000) + offsetMs),
                                    windowEndUnixMs: UInt64(Int64(clock.measureEndNs / 1_000_000) + offsetMs),
                                    segmentDurationMs: b.segmentDurationMs)
            },
            payloadRefreshMaxMs: refreshMaxMs, intervals: intervals, distribution: RunSummary.distribution(totals.histogram))
    }

    /// The corpus stamped with the current wall-clock time, timing the rebuild.
    static func timedPayloads(_ corpus: Corpus, _ compression: ProfileCompression, _ maxMs: inout Double) -> PayloadSet {
        let t0 = EventLoop.monotonicNowNs
        let set = PayloadSet(corpus: corpus, timeNanos: EventLoop.realtimeNowNs, compression: compression)
        maxMs = max(maxMs, Double(EventLoop.monotonicNowNs - t0) / 1e6)
        return set
    }

    static func progressLine(now: UInt64, clock: RunClock, latest: IntervalSummary?, rss: Int?) -> String {
        let elapsed = Double(now &- clock.startNs) / 1e9
        let phase = now < clock.measureStartNs ? "warmup" : now < clock.measureEndNs ? "measure" : "drain"
        var line = "\(fixed(elapsed, 1))s \(phase)"
        if let l = latest {
            line += " | \(l.profiles) profiles/s \(fixed(l.compressedMB, 2)) MB/s (raw \(fixed(l.decompressedMB, 2)))"
            line += " p50 \(fixed(l.p50Ms, 1)) ms p99 \(fixed(l.p99Ms, 1)) ms max \(fixed(l.maxMs, 1)) ms errors \(l.errors) pending \(l.pending)"
        }
        if let rss { line += " | server RSS \(rss >> 20) MiB" }
        return line
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        let scale = digits == 0 ? 1.0 : (0 ..< digits).reduce(1.0) { r, _ in r * 10 }
        let r = (v * scale).rounded() / scale
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
            if digits == 0 { s = String(s[..<dot]) }
        }
        return s
    }
}

