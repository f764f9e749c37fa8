import CShims
import Runtime
import SegmentWriterService
#if canImport(Glibc)
import Glibc
#endif

// segment-writer: Pyroscope's flags and YAML in, gRPC Push served until SIGTERM/SIGINT.
var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let pair = String(cString: pointer)
    if let eq = pair.firstIndex(of: "=") { environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...]) }
    entry += 1
}

let loaded: ConfigLoader.Result
do {
    loaded = try ConfigLoader.load(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment,
                                   readFile: TextFile.read)
} catch {
    switch error {
    case .helpRequested(let usage):
        print(usage)
        exit(0)
    case .invalid(let message):
        Log.writeStandardError("segment-writer: \(message)\n")
        exit(1)
    }
}

let log = Log(level: Log.Level(loaded.config.logLevel) ?? .info)
for setting in loaded.ignored { log.info("setting accepted without effect", ["setting": setting]) }
ShutdownSignals.block()
// Every flush allocates and frees tens of MB of columns; by default glibc hands that memory back
// to the kernel each time and the next flush pays it again in page faults (20–30 % of a busy
// shard's flush). Keep freed memory for reuse instead: RSS then follows the peak, which the
// memory budget bounds.
if cshim_malloc_keep_freed_memory() != 0 { log.info("malloc tuning refused by the C library") }
do {
    let openFiles = try OpenFilesLimit.raiseToHardLimit()
    if openFiles.after != openFiles.before {
        log.info("open-files limit raised to the hard limit", ["from": String(openFiles.before), "to": String(openFiles.after)])
    }
} catch {
    log.info("open-files limit left as it was", ["err": "\(error)"])
}
let server: SegmentWriterServer
do {
    server = try SegmentWriterServer(config: loaded.config, log: log)
    try server.start()
} catch {
    log.error("start-up failed", ["err": "\(error)"])
    exit(1)
}
let signal = ShutdownSignals.wait()
log.info("shutdown signal received", ["signal": String(signal)])
server.delayShutdown()
server.shutdown()
exit(0)
