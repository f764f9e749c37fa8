import BinaryCoding
import Runtime

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

/// A node with the addresses its host resolved to at start-up: every IPv4 and IPv6 address,
/// as grpc-go's `dns:///` resolver gives them (empty when the name did not resolve yet; the
/// client resolves it again when a call needs it).
public struct MetastoreEndpoint: Sendable {
    public var node: MetastoreNode
    public var addresses: [EndpointAddress]

    public init(node: MetastoreNode, addresses: [EndpointAddress]) {
        self.node = node
        self.addresses = addresses
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
            let entry = String(raw.trimming(\.isSpaceOrTab))
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

    /// Resolves every node (blocking: start-up only). A name that does not resolve is kept with
    /// no address, and its error returned apart for the caller to log.
    public static func resolve(_ nodes: [MetastoreNode], resolver: EndpointResolver = EndpointAddress.resolve)
        -> (endpoints: [MetastoreEndpoint], failures: [ResolutionError]) {
        var endpoints: [MetastoreEndpoint] = []
        var failures: [ResolutionError] = []
        for node in nodes {
            do {
                endpoints.append(MetastoreEndpoint(node: node, addresses: try resolver(node.host, Int(node.port))))
            } catch {
                endpoints.append(MetastoreEndpoint(node: node, addresses: []))
                failures.append(error)
            }
        }
        return (endpoints, failures)
    }
}
