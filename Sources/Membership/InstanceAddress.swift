#if canImport(Glibc)
import Glibc
#endif

/// The IP a writer advertises in the ring when `-segment-writer.lifecycler.addr` is not set, as
/// dskit picks it: with `-segment-writer.lifecycler.interface` names, the first IPv4 address of
/// those interfaces (in the order given); without, the first private IPv4 address (10/8,
/// 172.16/12, 192.168/16, 100.64/10) of any interface, else the first IPv4 address of `eth0` or
/// `en0` (dskit's fallback interfaces). Interfaces that are down or loopback never count.
public enum InstanceAddress {
    public static let fallbackInterfaces = ["eth0", "en0"]

    public static func ipv4(interfaces: [String] = []) -> String? {
        let candidates = interfaceAddresses()
        if !interfaces.isEmpty {
            return interfaces.lazy.compactMap { name in candidates.first { $0.interface == name } }.first.map { text($0.ip) }
        }
        if let privateAddress = candidates.first(where: { isPrivate($0.ip) }) { return text(privateAddress.ip) }
        return ipv4(interfaces: fallbackInterfaces)
    }

    /// Every IPv4 address of an up, non-loopback interface, in the system's order.
    static func interfaceAddresses() -> [(interface: String, ip: UInt32)] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var found: [(interface: String, ip: UInt32)] = []
        var next = list
        while let entry = next {
            next = entry.pointee.ifa_next
            let flags = Int32(entry.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0,
                  let address = entry.pointee.ifa_addr, Int32(address.pointee.sa_family) == AF_INET else { continue }
            let ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            found.append((String(cString: entry.pointee.ifa_name), ip))
        }
        return found
    }

    static func isPrivate(_ ip: UInt32) -> Bool {
        ip >> 24 == 10 || ip >> 20 == 0xAC1 || ip >> 16 == 0xC0A8 || ip >> 22 == (100 << 2 | 1)
    }

    static func text(_ ip: UInt32) -> String { "\(ip >> 24).\(ip >> 16 & 0xFF).\(ip >> 8 & 0xFF).\(ip & 0xFF)" }
}
