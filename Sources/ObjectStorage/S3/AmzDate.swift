import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The request time in SigV4's basic ISO 8601 form, `yyyyMMdd'T'HHmmss'Z'` (UTC).
/// Passed in rather than read inside the signer, so signing is a pure function.
public struct AmzDate: Equatable, Sendable {
    /// e.g. `20130524T000000Z`.
    public let stamp: String

    /// The `yyyyMMdd` part, used in the credential scope.
    public var day: String { String(stamp.prefix(8)) }

    public init(unixSeconds: Int) {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    public static func now() -> AmzDate {
        AmzDate(unixSeconds: Int(EventLoop.realtimeNowNs / 1_000_000_000))
    }
}
