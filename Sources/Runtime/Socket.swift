import CShims
#if canImport(Glibc)
import Glibc
#endif

/// A connected TCP socket: a typed file descriptor. Copyable like swift-system's
/// `FileDescriptor`; whoever holds the owning copy (a `Connection`, a test client) closes it.
public struct Socket: Hashable, Sendable {
    public let fileDescriptor: Int32

    public init(fileDescriptor: Int32) {
        precondition(fileDescriptor >= 0, "negative file descriptor")
        self.fileDescriptor = fileDescriptor
    }

    /// Blocking IPv4 connect, for tests and cold-path clients.
    public static func connect(ipv4 host: String, port: UInt16) throws(Errno) -> Socket {
        let fd = try Errno.check(host.withCString { cshim_tcp_connect($0, port) })
        return Socket(fileDescriptor: fd)
    }

    /// Blocking connect to any resolved address, IPv4 or IPv6 (tests and cold-path clients).
    public static func connect(to address: EndpointAddress) throws(Errno) -> Socket {
        var storage = address.storage
        let fd = try Errno.check(withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cshim_tcp_connect_address($0, address.length) }
        })
        return Socket(fileDescriptor: fd)
    }

    /// Connects to `address` within `timeoutMs`, blocking the calling thread (a thread beside the
    /// loops, never a loop): the socket, non-blocking, once connected. No answer in time is
    /// ETIMEDOUT (an address that drops SYNs); signals do not cut the wait short.
    public static func connect(to address: EndpointAddress, timeoutMs: Int) throws(Errno) -> Socket {
        let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        var code = rc == 0 ? 0 : errno
        if code == EINPROGRESS || code == EINTR {
            let deadlineNs = cshim_monotonic_ns() &+ UInt64(max(0, timeoutMs)) &* 1_000_000
            code = ETIMEDOUT
            while case let now = cshim_monotonic_ns(), now < deadlineNs {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let n = poll(&p, 1, Int32(clamping: (deadlineNs - now + 999_999) / 1_000_000))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    if n < 0 { code = errno }
                    break
                }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                code = error
                break
            }
        }
        guard code == 0 else {
            Glibc.close(fd)
            throw Errno(rawValue: code)
        }
        return Socket(fileDescriptor: fd)
    }

    /// Reads into `buffer`: the byte count (0 = end of stream), or nil when a
    /// non-blocking socket has nothing to read.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int? {
        let n = cshim_recv(fileDescriptor, buffer.baseAddress, buffer.count)
        if n == -Int(EAGAIN) { return nil }
        return try Errno.check(n)
    }

    /// Writes some prefix of `bytes`: the count written, or nil when a
    /// non-blocking socket's send buffer is full.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int? {
        let n = cshim_send(fileDescriptor, bytes.baseAddress, bytes.count)
        if n == -Int(EAGAIN) { return nil }
        return try Errno.check(n)
    }

    /// Blocking write of every byte (tests and cold-path clients).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            guard let n = try write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) else {
                throw .wouldBlock
            }
            offset += n
        }
    }

    /// Half-close: the peer reads end of stream, this side can still read.
    public func shutdownWrite() throws(Errno) {
        _ = try Errno.check(cshim_shutdown_write(fileDescriptor))
    }

    public func setNonBlocking(_ on: Bool) throws(Errno) {
        _ = try Errno.check(cshim_set_nonblocking(fileDescriptor, on ? 1 : 0))
    }

    public var localPort: UInt16 {
        get throws(Errno) { UInt16(try Errno.check(cshim_local_port(fileDescriptor))) }
    }

    /// The numeric host the socket is bound to: what a listener on every interface really got
    /// (`::`, or `0.0.0.0` on a kernel without IPv6).
    public var localHost: String {
        get throws(Errno) {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = try Errno.check(cshim_local_host(fileDescriptor, &text, UInt32(text.count)))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public func close() {
        _ = Glibc.close(fileDescriptor)
    }
}

/// A non-blocking TCP listener, IPv4 or IPv6.
public struct ListeningSocket: Hashable, Sendable {
    public let socket: Socket

    /// Binds and listens on `host`: an IPv4 literal, an IPv6 literal (`::1`; `::` also takes
    /// IPv4 connections), or "" for every interface of both families, as Go's `net.Listen("tcp",
    /// ":port")` (the IPv6 wildcard with IPV6_V6ONLY off; `0.0.0.0` when the kernel has no IPv6).
    /// Anything else (a name, brackets) is `Errno.invalidArgument`. `reusePort` sets SO_REUSEPORT
    /// so that one listener per loop can share the port (see `EventLoopGroup.listen`).
    /// Whether `listen` takes `host`: "" or an IPv4 or IPv6 literal in its plain form (what
    /// `inet_pton` reads: not `127.1`, not a scoped `fe80::1%eth0`), so configuration can refuse
    /// the others before anything opens.
    public static func takes(host: String) -> Bool {
        if host.isEmpty { return true }
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    public static func listen(
        host: String, port: UInt16, backlog: Int32 = 1024, reusePort: Bool
    ) throws(Errno) -> ListeningSocket {
        let fd = try Errno.check(host.withCString { cshim_tcp_listen($0, port, backlog, reusePort ? 1 : 0) })
        return ListeningSocket(socket: Socket(fileDescriptor: fd))
    }

    /// Accepts one pending connection (non-blocking, TCP_NODELAY), or nil when none is pending.
    public func accept() throws(Errno) -> Socket? {
        let fd = cshim_tcp_accept(socket.fileDescriptor)
        if fd == -EAGAIN { return nil }
        return Socket(fileDescriptor: try Errno.check(fd))
    }

    public var localPort: UInt16 {
        get throws(Errno) { try socket.localPort }
    }

    public var localHost: String {
        get throws(Errno) { try socket.localHost }
    }

    public func close() {
        socket.close()
    }
}
