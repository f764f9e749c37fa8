import GRPC
import ObjectStorage
import Runtime
@testable import SegmentWriterService
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One read can ask for thousands of gRPC answers: 13-byte HEADERS frames indexing a long
/// `:path` nobody serves, each answered UNIMPLEMENTED. The handler stops taking frames once the
/// answers queued for the client pass the loop's high watermark, keeps the rest of the read,
/// and takes it up when the client has read them: every stream is answered, in time.
@Suite(.serialized) struct GRPCBackpressureTests {
    @Test func aClientThatDoesNotReadGetsNoMoreAnswersQueuedThanTheHighWatermark() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = ServerContext(config: SegmentWriterConfig(), log: Log(level: .error), readiness: Readiness(),
                                   metrics: SegmentWriterMetrics(), hostname: "test")
        let loop = LoopContext(server: server, loop: group.loops[0], inboxCapacity: 16, store: FilesystemObjectStore(root: "/nonexistent"))
        server.install(loops: [loop])
        let peaks = PeakLog()
        let configuration = GRPCServerConfiguration(methods: GRPCConnectionHandler.methods)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in
            PeakRecordingHandler(GRPCConnectionHandler(context: loop, configuration: configuration, limits: GRPCConnectionLimits()),
                                 peaks, sendBufferBytes: Self.kernelBufferBytes)
        }
        group.start()

        let streams = 5_000
        let socket = try Socket.connect(to: EndpointAddress.literal("127.0.0.1", port: Int(port))!)
        var receiveBufferBytes = Self.kernelBufferBytes
        setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUF, &receiveBufferBytes, socklen_t(MemoryLayout<Int32>.size))
        try indexedPathFlood(streams: streams).withUnsafeBytes { try socket.writeAll($0) }
        usleep(500_000)  // the answers pile up while the client reads nothing
        let received = try Self.readAnswers(socket, streams: streams)
        socket.close()
        #expect(received.answers == streams, "every stream answered")
        #expect(waitUntil { peaks.count == 1 })
        let high = EventLoopConfiguration().outboundHighWatermarkBytes
        let answerBytes = received.bytes / streams
        #expect(received.bytes > 2 * high, "the answers to one read reach far past the watermark")
        let peak = try #require(peaks.values.first)
        #expect(peak <= high + 2 * answerBytes + 4096, "peak \(peak) B, watermark \(high) B, one answer \(answerBytes) B")
    }

    /// Socket buffers small enough that what the kernel takes in leaves the answers to the
    /// outbound queue (on loopback they grow to megabytes: all of one read's answers).
    static let kernelBufferBytes: Int32 = 16 << 10

    /// Reads until `streams` trailers-only answers (HEADERS with END_STREAM) came.
    static func readAnswers(_ socket: Socket, streams: Int) throws -> (answers: Int, bytes: Int) {
        var parsed = 0
        var answers = 0
        let wire = try readUntilDone(socket) { wire in
            // RFC 9113 §4.1 frame headers: 24-bit length, type, flags.
            while parsed + 9 <= wire.count {
                let length = Int(wire[parsed]) << 16 | Int(wire[parsed + 1]) << 8 | Int(wire[parsed + 2])
                guard parsed + 9 + length <= wire.count else { break }
                if wire[parsed + 3] == 1 && wire[parsed + 4] & 1 != 0 { answers += 1 }
                parsed += 9 + length
            }
            return answers >= streams
        }
        return (answers, wire.count)
    }
}
