import ArgumentParser
import Foundation
import LoadGen
import Runtime

/// `loadgen`: pushes real profiles at a segment-writer and reports throughput, ack latency,
/// errors and (for a server it started) RSS, CPU and objects per shard per segment.
struct LoadGenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Load generator for the segment-writer: our own h2c gRPC client pushing real profiles.",
        discussion: "Arguments after `--` go to the server started by --spawn-server. See Sources/Tools/LoadGen/README.md.")

    @Option(help: "host:port, [ipv6]:port or name:port of a running segment-writer (ignored with --spawn-server).")
    var target = "127.0.0.1:9095"
    @Option(help: "Start this segment-writer binary (loopback ports; a filesystem bucket unless its flags after `--` name another, e.g. S3), stop it at the end.")
    var spawnServer: String?
    @Option(help: "Bucket directory of the spawned server (default: a temporary directory, removed afterwards).")
    var dataDir: String?
    @Option(help: "Write the spawned server's stderr here.")
    var serverLog: String?

    @Option(help: "Directory of pprof files (raw or gzip); files the server would refuse are skipped.")
    var corpus = "../shared/testdata/pprof"
    @Option(help: "Tenants (one: `anonymous`; more: tenant-0…).")
    var tenants = 1
    @Option(help: "Distinct service_name values.")
    var services = 4
    @Option(help: "Distinct values of one extra series label (0: none).")
    var labelCardinality = 0
    @Option(help: "Name of the extra label (must sort between __name__ and service_name).")
    var labelName = "instance"
    @Option(help: "Shards pushes are spread over (0..<N).")
    var shards = 4
    @Option(help: "profile field encoding: gzip or none (the distributor's default).")
    var compression = ProfileCompression.gzip
    @Flag(help: "Profiles as a Pyroscope distributor forwards them: normalized as upstream's Normalize does (with --compression none: what a writer in a cluster receives).")
    var normalize = false

    @Option(help: "Connections.")
    var connections = 8
    @Option(help: "Concurrent streams (pushes in flight) per connection; the server allows 100.")
    var streams = 64
    @Option(help: "Client event loops (threads).")
    var clientLoops = 1
    @Option(help: "Open loop at this many pushes/s (default: closed loop at maximum).")
    var rate: Double?
    @Option(help: "Closed-loop calibration run first, then open loop at this fraction of its rate (e.g. 0.7).")
    var rateFraction: Double?
    @Option(help: "Measured duration (10s, 500ms, 2m).")
    var duration = "10s"
    @Option(help: "Warm-up before the measured window.")
    var warmup = "2s"
    @Option(help: "How long pushes still in flight after the window are awaited.")
    var drainTimeout = "10s"
    @Option(help: "Seed of the choices and profile ids.")
    var seed: UInt64 = 0x5EED

    @Option(help: "No server: this many timed passes of the corpus through one in-process accumulator, beside a gunzip baseline (issue #4's measure).")
    var inProcessPasses: Int?
    @Option(help: "With --in-process-passes: only this corpus file (repeatable).")
    var only: [String] = []
    @Option(help: "No server: one Push making this many series, ingested and flushed in process (time per series of the flush).")
    var seriesFlush: Int?
    @Option(help: "With --series-flush: types (one sample, N sample types) or labels (N samples, a request_id value each).")
    var seriesShape = SeriesFlushCost.Shape.sampleTypes
    @Option(help: "With --series-flush: times the Push is ingested and flushed.")
    var flushRepeats = 5
    @Option(help: "With --in-process-passes or --series-flush: write the last flushed segment object here (to cmp two builds' bytes).")
    var writeObject: String?

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false
    @Option(help: "Write an HTML report (index.html with plots) into this directory.")
    var report: String?
    @Flag(help: "No live progress line on stderr.")
    var quiet = false
    @Flag(help: "After the run (with --spawn-server: once the server stopped) read back every object its bucket (filesystem or S3; for --target, as the flags after `--` name it) got since the run began; fail unless each push acked OK is stored once (see README).")
    var audit = false
    @Flag(help: "With --spawn-server: SIGTERM the server the moment the measured window ends, with pushes still in flight (pair with --audit).")
    var terminateAtEnd = false

    @Argument(parsing: .postTerminator, help: "Arguments for the spawned segment-writer; with --target and --audit, the running one's (they name its bucket).")
    var serverArguments: [String] = []

    mutating func validate() throws {
        guard rate == nil || rateFraction == nil else { throw ValidationError("--rate and --rate-fraction exclude each other") }
        if let f = rateFraction, !(f > 0 && f <= 1) { throw ValidationError("--rate-fraction must be in (0, 1]") }
        guard tenants > 0, services > 0, shards > 0, connections > 0, streams > 0, clientLoops > 0, labelCardinality >= 0 else {
            throw ValidationError("counts must be positive")
        }
        if let n = inProcessPasses, n <= 0 { throw ValidationError("--in-process-passes must be positive") }
        guard only.isEmpty || inProcessPasses != nil else { throw ValidationError("--only needs --in-process-passes") }
        if let n = seriesFlush, n <= 0 || flushRepeats <= 0 { throw ValidationError("--series-flush and --flush-repeats must be positive") }
        guard writeObject == nil || inProcessPasses != nil || seriesFlush != nil else {
            throw ValidationError("--write-object needs --in-process-passes or --series-flush")
        }
        guard !terminateAtEnd || spawnServer != nil else { throw ValidationError("--terminate-at-end needs --spawn-server") }
        for (name, value) in [("--duration", duration), ("--warmup", warmup), ("--drain-timeout", drainTimeout)] where Self.seconds(value) == nil {
            throw ValidationError("\(name): not a duration: \(value)")
        }
    }

    func run() throws {
        if let passes = inProcessPasses { return try runInProcess(passes: passes) }
        if let series = seriesFlush {
            let (report, object) = SeriesFlushCost(series: series, shape: seriesShape).run(repeats: flushRepeats)
            try write(object)
            return print(json ? try TextReport.json(report) : report.text(), terminator: json ? "\n" : "")
        }
        // Many connections and a spawned server that inherits the limit: as a Go client would have.
        _ = try? OpenFilesLimit.raiseToHardLimit()
        let loaded = try Corpus.load(directory: corpus, normalize: normalize)
        for s in loaded.skipped { log("skipping \(s.name): \(s.reason)") }
        guard !loaded.profiles.isEmpty else { throw ValidationError("no usable profiles in \(corpus)") }

        var server: ServerProcess?
        var temporary: String?
        if let binary = spawnServer {
            let dir = dataDir ?? Self.temporaryDirectory()
            if dataDir == nil { temporary = dir }
            server = try ServerProcess(executable: binary, dataDirectory: dir, extraArguments: serverArguments, logFile: serverLog)
            spawnedServerPID = server!.pid
            signal(SIGINT) { _ in
                // Interrupted: do not leave the server running (it drains on SIGTERM).
                if spawnedServerPID > 0 { kill(spawnedServerPID, SIGTERM) }
                _exit(130)
            }
            log("started segment-writer pid \(server!.pid) grpc 127.0.0.1:\(server!.grpcPort), bucket \(server!.bucket.summary), segments \(server!.segmentDurationMs) ms")
        }
        defer {
            if let server {
                let status = server.stop()
                log("segment-writer exited with status \(status)")
            }
            if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
        }

        // A running target's bucket, as the flags after `--` (its own) name it: the audit reads
        // it, and the census whenever those flags are given.
        let targetBucket = server == nil && (audit || !serverArguments.isEmpty) ? try ServerBucket(serverArguments: serverArguments) : nil
        let bucket = audit ? server?.bucket ?? targetBucket : targetBucket
        var options = try runOptions(port: server?.grpcPort)
        let progress: ((String) -> Void)? = quiet ? nil : Self.progressPrinter()
        let ledger = audit ? AuditLedger() : nil
        // Segments open at most a segment duration before the first push they hold; 2 s more
        // for the clocks of another host.
        let since = bucket.map { UInt64(EventLoop.realtimeNowNs / 1_000_000) - UInt64($0.segmentDurationMs) - 2_000 } ?? 0
        var calibration: RunSummary?
        if let fraction = rateFraction {
            let closed = try LoadRunner.run(options, corpus: loaded, server: server, bucket: bucket, progress: progress, ledger: ledger)
            Self.endProgress(progress)
            guard closed.throughput.profilesPerSec > 0 else { throw ValidationError("calibration acknowledged nothing") }
            calibration = closed
            options.pushesPerSecond = closed.throughput.profilesPerSec * fraction
            log("calibrated: \(LoadRunnerFormat.rate(closed.throughput.profilesPerSec)) profiles/s closed loop; open loop at \(LoadRunnerFormat.rate(options.pushesPerSecond!))")
        }
        options.terminateServerAtWindowEnd = terminateAtEnd  // the measured run's end, not the calibration's
        let summary = try LoadRunner.run(options, corpus: loaded, server: server, bucket: bucket, progress: progress, ledger: ledger)
        Self.endProgress(progress)
        var checked: DurabilityAudit?
        if let ledger, let bucket {
            if let server {
                // The drain flushes every push the server accepted; only then is the bucket complete.
                log("stopping the segment-writer, then reading its bucket back")
                _ = server.stop()
            } else {
                // A push answered OK is in the bucket already; those still parked are not judged.
                log("reading the bucket back: \(bucket.summary)")
            }
            // Without a metastore the writer puts every object's metadata in the DLQ; with one,
            // there only when AddBlock failed.
            checked = try DurabilityAudit.check(bucket: bucket.store, ledger: ledger, metadata: bucket.auditedMetadata(),
                                                openedSinceUnixMs: since, othersMayPush: server == nil)
        }
        let result = LoadReport(run: summary, calibration: calibration, rateFraction: rateFraction, audit: checked)
        if let report {
            let path = try HTMLReport.write(result, directory: report)
            log("report: \(path)")
        }
        print(json ? try TextReport.json(result) : TextReport.render(result), terminator: json ? "\n" : "")
        if summary.throughput.ackedProfiles == 0 || checked?.passed == false { throw ExitCode(1) }
    }

    private func runInProcess(passes: Int) throws {
        let run = try IngestPasses(directory: corpus, compression: compression, normalize: normalize, only: only)
        guard !run.pushes.isEmpty else { throw ValidationError("no usable profiles in \(corpus)") }
        var object: [UInt8] = []
        let timings = run.run(passes: passes) { object = $0 }
        try write(object)
        let report = IngestPassReport(run, normalized: normalize, timings: timings)
        print(json ? try report.json() : report.text(), terminator: json ? "\n" : "")
    }

    private func write(_ object: [UInt8]) throws {
        if let path = writeObject { try Data(object).write(to: URL(fileURLWithPath: path)) }
    }

    private func runOptions(port spawnedPort: UInt16?) throws -> RunOptions {
        guard var options = spawnedPort.map(RunOptions.init(port:)) ?? RunOptions(target: target) else {
            throw ValidationError("--target must be host:port or [ipv6]:port, not \(target)")
        }
        options.connections = connections
        options.streamsPerConnection = streams
        options.clientLoops = clientLoops
        options.pushesPerSecond = rate
        options.durationSeconds = Self.seconds(duration)!
        options.warmupSeconds = Self.seconds(warmup)!
        options.drainTimeoutSeconds = Self.seconds(drainTimeout)!
        options.seed = seed
        options.shape = WorkloadShape(tenants: tenants, services: services, labelCardinality: labelCardinality,
                                      extraLabelName: labelName, shards: shards, compression: compression,
                                      normalized: normalize)
        return options
    }

    /// `10`, `10s`, `500ms`, `2m`.
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(text)
    }

    static func temporaryDirectory() -> String {
        var template = Array((URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("loadgen-XXXXXX").path).utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    /// One line per second: rewritten in place on a terminal, appended otherwise.
    static func progressPrinter() -> (String) -> Void {
        let tty = isatty(2) != 0
        return { line in
            FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }
    }

    static func endProgress(_ progress: ((String) -> Void)?) {
        if progress != nil, isatty(2) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data(("loadgen: " + message + "\n").utf8))
    }
}

/// The spawned server, for the SIGINT handler (a C function pointer cannot capture).
nonisolated(unsafe) var spawnedServerPID: Int32 = 0

enum LoadRunnerFormat {
    static func rate(_ v: Double) -> String { String(Int(v.rounded())) }
}

extension ProfileCompression: ExpressibleByArgument {}
extension SeriesFlushCost.Shape: ExpressibleByArgument {}

LoadGenCommand.main()
