#if canImport(Glibc)
import Glibc
#endif

/// Resolves the endpoint's host to its TCP addresses. Blocking (getaddrinfo): called at start-up
/// and on `EndpointAddressList`'s background thread, never on a loop's hot path. Injectable so
/// tests can change what a name resolves to.
typealias EndpointResolver = @Sendable (_ host: String, _ port: Int) throws(StorageError) -> [EndpointAddress]

/// One address of the endpoint, as `connect` takes it.
struct EndpointAddress: CustomStringConvertible, Sendable {
    var storage: sockaddr_storage
    var length: socklen_t
    var family: Int32
    var description: String

    /// Every TCP address of `host` (IPv4 and IPv6, in getaddrinfo's order).
    static func resolve(_ host: String, port: Int) throws(StorageError) -> [EndpointAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, list != nil else { throw .transport("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
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
        guard !addresses.isEmpty else { throw .transport("cannot resolve \(host): no address") }
        return addresses
    }

    private static func text(_ address: UnsafePointer<sockaddr>, family: Int32, port: Int) -> String {
        var text = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let raw = UnsafeRawPointer(address)
        if family == AF_INET6 {
            var ip = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
            inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
            return "[\(String(decoding: text.prefix { $0 != 0 }, as: UTF8.self))]:\(port)"
        }
        var ip = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
        inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
        return "\(String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)):\(port)"
    }
}
