import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// A whole exchange on one TCP connection with blocking calls, for the ring's registration
/// thread (a few exchanges per heartbeat period, never on a loop): connect within a timeout,
/// send everything, then read until the peer closes (memberlist merges a push/pull only after
/// its own reply went out, so the reply is read to the end even when it is not kept).
enum BlockingStream {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `bytes` to `address` and reads the reply until the peer closes; returns it, or nil
    /// when it is longer than `maxReplyBytes` (read to the end all the same). The whole exchange
    /// ends within `timeoutMs`.
    static func exchange(_ bytes: [UInt8], with address: EndpointAddress, timeoutMs: Int,
                         maxReplyBytes: Int) throws(Failure) -> [UInt8]? {
        let deadlineNs = EventLoop.monotonicNowNs &+ UInt64(timeoutMs) &* 1_000_000
        let socket: Socket
        do {
            socket = try Socket.connect(to: address, timeoutMs: timeoutMs)
        } catch {
            throw Failure(description: error.rawValue == ETIMEDOUT ? "connect timed out after \(timeoutMs) ms" : "connect: \(error)")
        }
        defer { socket.close() }
        let fd = socket.fileDescriptor
        var sent = 0
        while sent < bytes.count {
            try checkDeadline(deadlineNs, timeoutMs: timeoutMs, step: "send")
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            guard n < 0, errno == EAGAIN || errno == EINTR else { throw Failure(description: "send: \(Errno(rawValue: errno))") }
            try wait(fd, for: Int16(POLLOUT), until: deadlineNs, timeoutMs: timeoutMs, step: "send")
        }
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var reply: [UInt8]? = []
        while true {
            // Here too, not only in `wait`: a peer that never pauses never brings EAGAIN.
            try checkDeadline(deadlineNs, timeoutMs: timeoutMs, step: "reply")
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return reply }
            if n > 0 {
                if let kept = reply?.count, kept + n <= maxReplyBytes {
                    reply?.append(contentsOf: buffer[..<n])
                } else {
                    reply = nil
                }
                continue
            }
            guard errno == EAGAIN || errno == EINTR else { throw Failure(description: "recv: \(Errno(rawValue: errno))") }
            try wait(fd, for: Int16(POLLIN), until: deadlineNs, timeoutMs: timeoutMs, step: "reply")
        }
    }

    private static func checkDeadline(_ deadlineNs: UInt64, timeoutMs: Int, step: String) throws(Failure) {
        guard EventLoop.monotonicNowNs < deadlineNs else { throw timedOut(step, timeoutMs) }
    }

    private static func timedOut(_ step: String, _ timeoutMs: Int) -> Failure {
        Failure(description: "\(step) timed out after \(timeoutMs) ms")
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadlineNs: UInt64, timeoutMs: Int, step: String) throws(Failure) {
        let now = EventLoop.monotonicNowNs
        let leftMs = now < deadlineNs ? Int32(clamping: (deadlineNs - now + 999_999) / 1_000_000) : 0
        var p = pollfd(fd: fd, events: events, revents: 0)
        let n = poll(&p, 1, leftMs)
        if n == 0 { throw timedOut(step, timeoutMs) }
        if n < 0, errno != EINTR { throw Failure(description: "poll: \(Errno(rawValue: errno))") }
    }
}
