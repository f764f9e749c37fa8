import Runtime

/// A loopback port whose SYNs are dropped, as a vanished pod's address often drops them: a
/// listener with a backlog of 0 whose one queued connection is never accepted. Its accept queue
/// is full, so the kernel ignores every later SYN and a connect stays in progress for minutes.
public struct BlackHoledPort {
    public let port: Int
    private let listener: ListeningSocket
    private let queued: Socket

    public init() throws {
        listener = try ListeningSocket.listen(host: "127.0.0.1", port: 0, backlog: 0, reusePort: false)
        port = Int(try listener.localPort)
        queued = try Socket.connect(ipv4: "127.0.0.1", port: UInt16(port))
    }

    public func close() {
        queued.close()
        listener.close()
    }
}
