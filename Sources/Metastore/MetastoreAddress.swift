#if canImport(Glibc)
import Glibc
#endif

/// One metastore server from `-metastore.address` (segment-object.md §11.3): the raft server
/// ID it is keyed by (port stripped) and the address it is dialled at.
public struct MetastoreNode: Hashable, Sendable {
    /// The raft server ID with any `:port` stripped; defaults to the host.
    public var id: String
    public var host: String
    public var port: UInt16

    public init(id: String, host: String, port: UInt16) {
        self.id = id
        self.host = host
        self.port = port
    }

    public var address: String { "\(host):\(port)" }
}

/// A node with its host resolved to an IPv4 literal (resolved once, at start-up).
public struct MetastoreEndpoint: Hashable, Sendable {
    public var node: MetastoreNode
    public var ipv4: String

    public init(node: MetastoreNode, ipv4: String) {
        self.node = node
        self.ipv4 = ipv4
    }
}

public enum MetastoreAddressError: Error, Equatable, CustomStringConvertible {
    /// An entry that is not `host:port`, `host:port/raft-id` or `dns:///host:port`.
    case malformed(String)
    /// `dnssrvnoa+…` and `kubernetes:///…` discovery are not implemented.
    case unsupportedScheme(String)

    public var description: String {
        switch self {
        case .malformed(let entry): "malformed metastore address \"\(entry)\": want host:port, host:port/raft-id or dns:///host:port"
        case .unsupportedScheme(let entry): "unsupported metastore address \"\(entry)\": only static lists and dns:/// are implemented"
        }
    }
}

public enum MetastoreAddresses {
    /// Parses the static comma list (§11.3): `addr[/raft-id]`, or `dns:///host:port`; blanks
    /// between commas are ignored. The ID defaults to the host; an explicit ID loses its port.
    public static func parse(_ list: String) throws(MetastoreAddressError) -> [MetastoreNode] {
        var nodes: [MetastoreNode] = []
        for raw in list.split(separator: ",") {
            let entry = raw.trimmingSpaces
            if entry.isEmpty { continue }
            var rest = Substring(entry)
            if rest.hasPrefix("dns:///") {
                rest = rest.dropFirst("dns:///".count)
            } else if rest.contains("://") || rest.hasPrefix("dnssrv") {
                throw .unsupportedScheme(entry)
            }
            var id: Substring?
            if let slash = rest.firstIndex(of: "/") {
                id = rest[rest.index(after: slash)...]
                rest = rest[..<slash]
            }
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port != 0 else {
                throw .malformed(entry)
            }
            let host = String(rest[..<colon])
            guard !host.isEmpty, !host.contains(":") else { throw .malformed(entry) }
            let nodeID = id.map { stripPort(String($0)) } ?? host
            guard !nodeID.isEmpty else { throw .malformed(entry) }
            nodes.append(MetastoreNode(id: nodeID, host: host, port: port))
        }
        return nodes
    }

    /// `host` without a trailing `:port` (the key upstream's client uses for raft IDs).
    public static func stripPort(_ id: String) -> String {
        guard let colon = id.lastIndex(of: ":"), UInt16(id[id.index(after: colon)...]) != nil else { return id }
        return String(id[..<colon])
    }

    /// The first IPv4 address of `host` (getaddrinfo; blocking, so start-up only), or nil.
    public static func resolveIPv4(_ host: String) -> String? {
        if isIPv4Literal(host) { return host }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(first) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if info.pointee.ai_family == AF_INET, let sa = info.pointee.ai_addr {
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                let ok = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    return inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil
                }
                if ok { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            }
            cursor = info.pointee.ai_next
        }
        return nil
    }

    /// Resolves every node; the ones that do not resolve are returned apart (the caller logs them).
    public static func resolve(_ nodes: [MetastoreNode]) -> (endpoints: [MetastoreEndpoint], unresolved: [MetastoreNode]) {
        var endpoints: [MetastoreEndpoint] = []
        var unresolved: [MetastoreNode] = []
        for node in nodes {
            if let ip = resolveIPv4(node.host) {
                endpoints.append(MetastoreEndpoint(node: node, ipv4: ip))
            } else {
                unresolved.append(node)
            }
        }
        return (endpoints, unresolved)
    }

    /// Dotted quad with four parts of 0…255.
    public static func isIPv4Literal(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
