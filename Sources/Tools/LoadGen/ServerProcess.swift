import Foundation
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// A `segment-writer` that loadgen started itself: loopback ports picked by the server
/// (read from its `server listening` log line), a filesystem bucket in `dataDirectory` unless
/// its flags name another, readiness from `GET /ready`, resource use from `/proc/PID`, SIGTERM
/// and a wait for the drain.
public final class ServerProcess {
    public let executable: String
    public let dataDirectory: String
    /// The bucket the server writes, as its own flags name it: `dataDirectory`, another
    /// directory, or S3.
    public let bucket: ServerBucket
    public private(set) var grpcPort: UInt16 = 0
    public private(set) var httpPort: UInt16 = 0
    /// `-segment-writer.segment-duration` as the server's flags set it.
    public var segmentDurationMs: Int { bucket.segmentDurationMs }
    private let process = Process()
    private let lines = LogTail()

    public var pid: Int32 { process.processIdentifier }

    /// Starts the server and waits (up to `timeoutSeconds`) until it serves and `/ready` is 200.
    /// `extraArguments` come last, so they override loadgen's own flags.
    public init(executable: String, dataDirectory: String, extraArguments: [String], logFile: String?,
                timeoutSeconds: Double = 30) throws {
        self.executable = executable
        self.dataDirectory = dataDirectory
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: executable)
        let arguments = ["-server.grpc-listen-address=127.0.0.1", "-server.grpc-listen-port=0",
                         "-server.http-listen-address=127.0.0.1", "-server.http-listen-port=0",
                         "-storage.filesystem.dir=\(dataDirectory)",
                         // No distributors here: with a ring in the extra flags, neither
                         // `/ready` at start nor the drain waits on distributors' ring views.
                         "-segment-writer.min-ready-duration=0s"] + extraArguments
        process.arguments = arguments
        bucket = try ServerBucket(serverArguments: arguments)
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let log = logFile.flatMap { path -> FileHandle? in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }
        try process.run()
        let tail = lines
        let reader = Thread {
            var pending = Data()
            while true {
                let chunk = stderr.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                log?.write(chunk)
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    tail.append(String(decoding: pending[pending.startIndex ..< nl], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex ... nl)
                }
            }
            tail.close()
        }
        reader.start()
        try waitUntilServing(timeoutSeconds: timeoutSeconds)
    }

    private func waitUntilServing(timeoutSeconds: Double) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            for line in lines.snapshot() {
                if let ports = Self.listeningPorts(line) { (grpcPort, httpPort) = ports }
            }
            if grpcPort != 0, httpPort != 0, Self.httpStatus(port: httpPort, path: "/ready") == 200 { return }
            if !process.isRunning || lines.isClosed && grpcPort == 0 {
                throw LoadGenError.server("segment-writer exited during start-up:\n" + lines.snapshot().suffix(20).joined(separator: "\n"))
            }
            usleep(20_000)
        }
        process.terminate()
        throw LoadGenError.server("segment-writer not ready after \(timeoutSeconds) s:\n" + lines.snapshot().suffix(20).joined(separator: "\n"))
    }

    /// `ts=… msg="server listening" grpc=127.0.0.1:PORT http=[::]:PORT …` (the port follows the last colon)
    static func listeningPorts(_ line: String) -> (UInt16, UInt16)? {
        guard line.contains("msg=\"server listening\""),
              let grpc = field("grpc", in: line)?.split(separator: ":").last.flatMap({ UInt16($0) }),
              let http = field("http", in: line)?.split(separator: ":").last.flatMap({ UInt16($0) }) else { return nil }
        return (grpc, http)
    }

    /// The value of `key=value` in a logfmt line (unquoted values only).
    static func field(_ key: String, in line: String) -> String? {
        for token in line.split(separator: " ") where token.hasPrefix(key + "=") {
            return String(token.dropFirst(key.count + 1))
        }
        return nil
    }

    /// One blocking HTTP/1.1 GET on loopback; the status code, or nil when unreachable.
    static func httpStatus(port: UInt16, path: String) -> Int? {
        guard let socket = try? Socket.connect(ipv4: "127.0.0.1", port: port) else { return nil }
        defer { socket.close() }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard (try? request.withUnsafeBytes { try socket.writeAll($0) }) != nil else { return nil }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { (try? socket.read(into: $0)) ?? nil } ?? 0
        let head = String(decoding: buffer[..<max(0, n)], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 "), head.count >= 12 else { return nil }
        return Int(head.dropFirst(9).prefix(3))
    }

    /// Resident set size and CPU time (user + system) from `/proc/PID`.
    public func sample() -> ResourceSample? {
        ResourceSample.read(pid: pid)
    }

    /// SIGTERM without waiting: the server drains (answers what it holds, refuses the rest).
    public func signalTermination() {
        if process.isRunning { kill(pid, SIGTERM) }
    }

    /// SIGTERM, then waits for the drain (up to `timeoutSeconds`, then SIGKILL). The exit status.
    @discardableResult
    public func stop(timeoutSeconds: Double = 60) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        signalTermination()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public var recentLog: [String] { lines.snapshot() }
}

/// The last lines the server wrote on stderr (bounded).
private final class LogTail: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var closed = false
    private let linesMax = 200

    func append(_ line: String) {
        lock.withLock {
            lines.append(line)
            if lines.count > linesMax { lines.removeFirst(lines.count - linesMax) }
        }
    }
    func close() { lock.withLock { closed = true } }
    var isClosed: Bool { lock.withLock { closed } }
    func snapshot() -> [String] { lock.withLock { lines } }
}

/// One reading of a process's memory and CPU.
public struct ResourceSample: Sendable {
    public var monotonicNs: UInt64
    public var rssBytes: Int
    /// utime + stime in seconds.
    public var cpuSeconds: Double

    public init(monotonicNs: UInt64, rssBytes: Int, cpuSeconds: Double) {
        self.monotonicNs = monotonicNs
        self.rssBytes = rssBytes
        self.cpuSeconds = cpuSeconds
    }

    static func read(pid: Int32) -> ResourceSample? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parse(stat: text, pageBytes: Int(sysconf(Int32(_SC_PAGESIZE))), ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
                     nowNs: EventLoop.monotonicNowNs)
    }

    static func parse(stat: String, pageBytes: Int, ticksPerSecond: Double, nowNs: UInt64) -> ResourceSample? {
        guard let s = ProcessStat.parse(stat) else { return nil }
        return ResourceSample(monotonicNs: nowNs, rssBytes: Int(s.residentPages) * pageBytes,
                              cpuSeconds: Double(s.userTicks + s.systemTicks) / ticksPerSecond)
    }
}

public enum LoadGenError: Error, CustomStringConvertible {
    case server(String)
    case usage(String)

    public var description: String {
        switch self {
        case .server(let m), .usage(let m): return m
        }
    }
}
