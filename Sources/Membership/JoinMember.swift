import Runtime

/// One `-memberlist.join` entry as dskit takes them: `host:port`, `dns+host:port` (every A/AAAA
/// record) or a bare host (memberlist's default port, 7946). SRV lookups (`dnssrv+`,
/// `dnssrvnoa+`) need a DNS client this process does not have; the configuration refuses them.
public struct JoinMember: Sendable, Equatable, CustomStringConvertible {
    public static let defaultPort: UInt16 = 7946

    public var host: String
    public var port: UInt16
    public let description: String

    /// nil for an entry this process cannot use (an SRV lookup, an empty host, a bad port).
    public init?(_ entry: String) {
        var rest = Substring(entry)
        if rest.hasPrefix("dnssrv+") || rest.hasPrefix("dnssrvnoa+") { return nil }
        if rest.hasPrefix("dns+") { rest = rest.dropFirst(4) }
        if let split = EndpointAddress.splitHostPort(String(rest)) {
            host = split.host
            port = split.port
        } else if !rest.isEmpty, !rest.contains(":") || (rest.hasPrefix("[") && rest.hasSuffix("]")) {
            host = rest.hasPrefix("[") ? String(rest.dropFirst().dropLast()) : String(rest)
            port = Self.defaultPort
        } else {
            return nil
        }
        guard !host.isEmpty, port != 0 else { return nil }
        description = entry
    }
}
