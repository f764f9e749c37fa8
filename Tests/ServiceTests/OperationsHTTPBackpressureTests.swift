@testable import SegmentWriterService
import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The operational port answers pipelined requests only while the client takes the answers:
/// past the loop's high watermark of queued output the rest wait (as behind Go's server, which
/// writes one response before reading the next request), and they are all answered, in order,
/// once the client reads.
@Suite(.serialized) struct OperationsHTTPBackpressureTests {
    /// Large expositions (a series per tenant), as on a writer with many tenants.
    private static func metrics() -> SegmentWriterMetrics {
        let metrics = SegmentWriterMetrics()
        for t in 0 ..< 200 { metrics.waitTimeouts(tenant: "tenant-with-a-longish-name-\(t)").increment() }
        return metrics
    }

    private static let request = Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8)

    private func serve(_ body: (UInt16, PeakLog) throws -> Void) throws {
        let metrics = Self.metrics()
        let peaks = PeakLog()
        let timeouts = OperationsHTTPHandler.Timeouts(readNs: 30_000_000_000, idleNs: 0, writeNs: 30_000_000_000)
        let group = try EventLoopGroup(loopCount: 1)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in
            PeakRecordingHandler(OperationsHTTPHandler(readiness: Readiness(), metrics: metrics,
                                                       connections: metrics.tcpConnections(protocol: "http"), timeouts: timeouts),
                                 peaks)
        }
        group.start()
        defer { group.shutdown() }
        try body(port, peaks)
    }

    @Test func aClientThatDoesNotReadGetsNoMoreAnswersQueuedThanTheHighWatermark() throws {
        try serve { port, peaks in
            let socket = try Socket.connect(to: EndpointAddress.literal("127.0.0.1", port: Int(port))!)
            let pipelined = [UInt8]((0 ..< 2_000).flatMap { _ in Self.request })
            try pipelined.withUnsafeBytes { try socket.writeAll($0) }
            usleep(500_000)
            socket.close()
            #expect(waitUntil { peaks.count == 1 })
            let exposition = Self.metrics().exposition().count
            #expect(2_000 * exposition > 16 * EventLoopConfiguration().outboundHighWatermarkBytes, "answers far past the watermark")
            let high = EventLoopConfiguration().outboundHighWatermarkBytes
            let peak = try #require(peaks.values.first)
            // Answers stop once the queue is past the watermark: at most one answer beyond it.
            #expect(peak <= high + exposition + 4096, "peak \(peak) B, watermark \(high) B, one answer \(exposition) B")
        }
    }

    @Test func pipelinedRequestsAreAllAnsweredInOrderOnceTheClientReads() throws {
        try serve { port, _ in
            let socket = try Socket.connect(to: EndpointAddress.literal("127.0.0.1", port: Int(port))!)
            defer { socket.close() }
            let count = 150
            var pipelined = [UInt8]((0 ..< count).flatMap { _ in Self.request })
            pipelined += Array("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)
            try pipelined.withUnsafeBytes { try socket.writeAll($0) }
            usleep(300_000)  // the answers pile up past the watermark before the client reads
            #expect(count * Self.metrics().exposition().count > 2 * EventLoopConfiguration().outboundHighWatermarkBytes)
            // Read until the server closes (answers left waiting would stall).
            let text = String(decoding: try readUntilDone(socket), as: UTF8.self)
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1 == count + 1)
            #expect(text.hasSuffix("ok\n"), "the last answer is /healthz's, then the server closed")
        }
    }
}

/// The outbound peak of each connection, as it closes.
final class PeakLog: Sendable {
    private let peaks = Mutex<[Int]>([])
    func record(_ peak: Int) { peaks.withLock { $0.append(peak) } }
    var values: [Int] { peaks.withLock { $0 } }
    var count: Int { values.count }
}

/// Forwards everything to the handler under test and logs the connection's outbound peak.
final class PeakRecordingHandler: ConnectionHandler {
    private let inner: any ConnectionHandler
    private let peaks: PeakLog
    /// SO_SNDBUF for the accepted socket; nil keeps the kernel's, which on loopback grows to
    /// megabytes and could take in all the output whose queueing a test means to see.
    private let sendBufferBytes: Int32?

    init(_ inner: any ConnectionHandler, _ peaks: PeakLog, sendBufferBytes: Int32? = nil) {
        self.inner = inner
        self.peaks = peaks
        self.sendBufferBytes = sendBufferBytes
    }

    func connectionOpened(_ connection: Connection) {
        if var bytes = sendBufferBytes {
            setsockopt(connection.socket.fileDescriptor, SOL_SOCKET, SO_SNDBUF, &bytes, socklen_t(MemoryLayout<Int32>.size))
        }
        inner.connectionOpened(connection)
    }
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) { inner.received(bytes, on: connection) }
    func inputClosed(_ connection: Connection) { inner.inputClosed(connection) }
    func connectionWritable(_ connection: Connection) { inner.connectionWritable(connection) }
    func deadlinePassed(_ connection: Connection) { inner.deadlinePassed(connection) }
    func connectionClosed(_ connection: Connection, error: Errno?) {
        inner.connectionClosed(connection, error: error)
        peaks.record(connection.outboundQueuedBytesPeak)
    }
}

/// Reads `socket` (made non-blocking) until the peer closes, `done` says what came so far is
/// enough, or 20 s in all passed without anything to read.
func readUntilDone(_ socket: Socket, _ done: ([UInt8]) -> Bool = { _ in false }) throws -> [UInt8] {
    try socket.setNonBlocking(true)
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var idleMs = 0
    while idleMs < 20_000 && !done(received) {
        guard let n = try buffer.withUnsafeMutableBytes({ try socket.read(into: $0) }) else {
            usleep(1000)
            idleMs += 1
            continue
        }
        if n == 0 { break }
        received += buffer[..<n]
    }
    return received
}

func waitUntil(timeoutMs: Int = 10_000, _ condition: () -> Bool) -> Bool {
    for _ in 0 ..< timeoutMs {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}
