#if canImport(Glibc)
import Glibc
#endif

/// Resolves a host to its TCP addresses. Blocking (getaddrinfo): called at start-up and on
/// `EndpointAddressList`'s background thread, never on a loop. Injectable so tests can change
/// what a name resolves to.
public typealias EndpointResolver = @Sendable (_ host: String, _ port: Int) throws(ResolutionError) -> [EndpointAddress]

/// A host that did not resolve to any TCP address.
public struct ResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var reason: String

    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    public var description: String { "cannot resolve \(host): \(reason)" }
}

/// One TCP address of a host (IPv4 or IPv6), as `connect` takes it (`EventLoop.connect(to:)`,
/// the ring's connect, POSIX `connect`).
public struct EndpointAddress: CustomStringConvertible, Sendable {
    public var storage: sockaddr_storage
    public var length: socklen_t
    public var family: Int32
    /// `ip:port`, or `[ip]:port` for IPv6.
    public var description: String

    /// Every TCP address of `host` (IPv4 and IPv6, in getaddrinfo's order).
    public static func resolve(_ host: String, port: Int) throws(ResolutionError) -> [EndpointAddress] {
        try lookup(host, port: port, flags: 0)
    }

    /// `host` when it is an IPv4 or IPv6 literal, else nil. Never asks DNS, so safe on a loop.
    public static func literal(_ host: String, port: Int) -> EndpointAddress? {
        (try? lookup(host, port: port, flags: AI_NUMERICHOST))?.first
    }

    private static func lookup(_ host: String, port: Int, flags: Int32) throws(ResolutionError) -> [EndpointAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, list != nil else { throw ResolutionError(host: host, reason: String(cString: gai_strerror(rc))) }
        defer { freeaddrinfo(list) }
        var addresses: [EndpointAddress] = []
        var next = list
        while let info = next {
            next = info.pointee.ai_next
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen))) }
            addresses.append(EndpointAddress(storage: storage, length: info.pointee.ai_addrlen, family: info.pointee.ai_family,
                                             description: Self.text(info.pointee.ai_addr, family: info.pointee.ai_family, port: port)))
        }
        guard !addresses.isEmpty else { throw ResolutionError(host: host, reason: "no address") }
        return addresses
    }

    private static func text(_ address: UnsafePointer<sockaddr>, family: Int32, port: Int) -> String {
        var text = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let raw = UnsafeRawPointer(address)
        if family == AF_INET6 {
            var ip = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
            inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
        } else {
            var ip = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
            inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
        }
        return hostPort(String(decoding: text.prefix { $0 != 0 }, as: UTF8.self), port: port)
    }
}

extension EndpointAddress {
    /// `host:port`, an IPv6 host in brackets (`[::1]:9095`), as Go's `net.JoinHostPort`.
    public static func hostPort(_ host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `host:port` or `[ipv6]:port` split, brackets removed, as Go's `net.SplitHostPort`; nil
    /// without a port or a host, and for an IPv6 literal without brackets (`::1:9095` is ambiguous).
    public static func splitHostPort(_ text: String) -> (host: String, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        } else if host.contains(where: { $0 == ":" || $0 == "[" || $0 == "]" }) {
            return nil
        }
        return host.isEmpty ? nil : (String(host), port)
    }
}
