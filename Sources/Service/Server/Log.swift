import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Structured log lines on stderr (`ts=… level=… msg="…" key=value`), logfmt as Pyroscope's
/// go-kit logger writes them. Cold path only: start-up, shutdown, flush failures.
public struct Log: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public init?(_ name: String) {
            switch name {
            case "debug": self = .debug
            case "info": self = .info
            case "warn": self = .warn
            case "error": self = .error
            default: return nil
            }
        }
        var name: String { ["debug", "info", "warn", "error"][rawValue] }
    }

    public var level: Level

    public init(level: Level = .info) { self.level = level }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) { write(.debug, message, fields) }
    public func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) { write(.info, message, fields) }
    public func warn(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) { write(.warn, message, fields) }
    public func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) { write(.error, message, fields) }

    private func write(_ at: Level, _ message: String, _ fields: KeyValuePairs<String, String>) {
        guard at >= level else { return }
        var line = "ts=\(Self.timestamp()) level=\(at.name) msg=\(Self.quote(message))"
        for (key, value) in fields { line += " \(key)=\(Self.quote(value))" }
        line += "\n"
        Self.writeStandardError(line)
    }

    /// Writes `text` to fd 2 unbuffered (one write per line, so threads do not interleave).
    public static func writeStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") }
        if plain { return value }
        var out = "\""
        for c in value.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}

/// A warning that may come from every loop at any rate (a flood of refused connections) written
/// at most once per `everyNs`; the metric next to it counts them all.
final class RateLimitedLog: Sendable {
    private let log: Log
    private let everyNs: UInt64
    private let nextNs = Atomic<UInt64>(0)

    init(_ log: Log, everyNs: UInt64) {
        self.log = log
        self.everyNs = everyNs
    }

    func warn(_ message: String, _ fields: KeyValuePairs<String, String>) {
        let now = EventLoop.monotonicNowNs
        let next = nextNs.load(ordering: .relaxed)
        guard now >= next, nextNs.compareExchange(expected: next, desired: now + everyNs, ordering: .relaxed).exchanged else { return }
        log.warn(message, fields)
    }
}
