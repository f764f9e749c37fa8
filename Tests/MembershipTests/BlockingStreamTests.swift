import Runtime
import Testing
@testable import Membership
#if canImport(Glibc)
import Glibc
#endif

/// The heartbeat thread's exchange with a `-memberlist.join` target ends within its timeout,
/// whatever the target sends.
@Suite struct BlockingStreamTests {
    static let timeoutMs = 1000

    /// A reply that never pauses never makes `recv` return EAGAIN: the deadline must be checked
    /// between reads too, or the heartbeat thread reads for as long as the target sends.
    @Test func aReplyStreamingPastTheDeadlineIsCutAtIt() throws {
        let peer = try StreamingPeer(readsRequestAfterNs: UInt64(Self.timeoutMs - 60) * 1_000_000)
        let start = EventLoop.monotonicNowNs
        // Larger than the socket buffers: the exchange stays in its send phase until the peer reads.
        let request = [UInt8](repeating: 7, count: StreamingPeer.requestBytes)
        #expect { try BlockingStream.exchange(request, with: peer.address, timeoutMs: Self.timeoutMs, maxReplyBytes: 1 << 20) }
            throws: { "\($0)".contains("reply timed out after \(Self.timeoutMs) ms") }
        #expect(EventLoop.monotonicNowNs - start < 2_000_000_000, "the exchange ran past its timeout")
        peer.join()
    }
}

/// A target that queues a 256 MiB reply before it reads the request, shortly before the
/// exchange's deadline: the reply then flows from its send queue without a pause until well
/// after the deadline, and ends with a FIN (which the exchange without a deadline check read
/// to the end). Where the send queue cannot be enlarged (SO_SNDBUFFORCE needs CAP_NET_ADMIN)
/// it streams for 4 s after the request instead.
final class StreamingPeer: Sendable {
    static let requestBytes = 6 << 20
    static let queuedBytes = 256 << 20
    let address: EndpointAddress
    private let listener: ListeningSocket
    private let thread: OSThread

    init(readsRequestAfterNs: UInt64) throws {
        listener = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        address = try #require(try EndpointAddress.resolve("127.0.0.1", port: Int(listener.localPort)).first)
        let fd = listener.socket.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let reply = [UInt8](repeating: 0x5A, count: Self.queuedBytes)
        thread = try #require(OSThread.spawn { Self.serve(fd, reply, readsRequestAfterNs: readsRequestAfterNs) })
    }

    func join() {
        thread.join()
        listener.close()
    }

    private static func serve(_ fd: Int32, _ reply: [UInt8], readsRequestAfterNs: UInt64) {
        let client = accept(fd, nil, nil)
        guard client >= 0 else { return }
        let acceptedNs = EventLoop.monotonicNowNs
        defer { close(client) }
        var size = Int32(queuedBytes * 2)
        let queued = setsockopt(client, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) == 0
        if queued { _ = send(client, reply, reply.count, Int32(MSG_NOSIGNAL)) }
        let elapsedNs = EventLoop.monotonicNowNs - acceptedNs
        if elapsedNs < readsRequestAfterNs { usleep(UInt32((readsRequestAfterNs - elapsedNs) / 1000)) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var read = 0
        while read < requestBytes {
            let n = recv(client, &buffer, buffer.count, 0)
            guard n > 0 else { return }
            read += n
        }
        if queued {
            shutdown(client, Int32(SHUT_WR))
        } else {
            while EventLoop.monotonicNowNs - acceptedNs < 4_000_000_000, send(client, reply, 1 << 20, Int32(MSG_NOSIGNAL)) > 0 {}
        }
        _ = recv(client, &buffer, 1, 0)  // until the exchange closes
    }
}
