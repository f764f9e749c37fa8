import BinaryCoding
import Testing
@testable import GRPC
@testable import HTTP2
import TestSupport

/// What one read of a client's bytes can make the server write. A `:path` the client sent once
/// and then indexes costs it 13 bytes per HEADERS frame, and each such request is answered
/// UNIMPLEMENTED, quoting the path: the quote is cut short, and the server stops between frames
/// once its answers pass the caller's mark.
@Suite struct GRPCAnswerBoundTests {
    /// Trailers-only answers (HEADERS with END_STREAM) in `wire`.
    static func answers(_ wire: [UInt8]) -> Int {
        splitFrames(wire).filter { $0.0.type == .headers && $0.0.has(FrameFlags.endStream) }.count
    }

    @Test func echoedValuesAreCutShortInGrpcMessage() throws {
        let server = GRPCServerConnection(configuration: GRPCServerConfiguration(methods: [SpecExample.pushPath]))
        var out = ByteWriter()
        let raw = RawBytes(indexedPathFlood(streams: 1))
        defer { withExtendedLifetime(raw) {} }
        var input = raw.view
        while server.next(&input, into: &out) != nil {}
        let answer = try #require(try headerBlocks(out.bytes).last)
        let message = try #require(answer.1.first(named: "grpc-message"))
        let quoted = String(repeating: "%", count: GRPCServerConnection.echoedBytesMax) + "..."
        #expect(GRPCPercentEncoding.decode(message) == ByteString("unknown service " + quoted))
    }

    @Test func oneReadsAnswersPauseAtTheOutputMarkAndAllComeOnceFedAgain() throws {
        let server = GRPCServerConnection(configuration: GRPCServerConfiguration(methods: [SpecExample.pushPath]))
        var out = ByteWriter()
        server.start(into: &out)
        let streams = 1_000
        let raw = RawBytes(indexedPathFlood(streams: streams))
        defer { withExtendedLifetime(raw) {} }
        let pauseBytes = 64 << 10
        var input = raw.view
        var wire: [UInt8] = []
        var largestBytes = 0
        var pauses = 0
        repeat {
            out.bytes.removeAll(keepingCapacity: true)
            while server.next(&input, into: &out, outputPauseBytes: pauseBytes) != nil {}
            largestBytes = max(largestBytes, out.count)
            wire += out.bytes
            if !input.isEmpty { pauses += 1 }
        } while !input.isEmpty
        let answerBytes = wire.count / streams
        #expect(Self.answers(wire) == streams, "every stream answered, none lost")
        #expect(pauses >= streams * answerBytes / (pauseBytes + answerBytes))
        #expect(largestBytes <= pauseBytes + 2 * answerBytes, "at most one answer past the mark")
        #expect(!server.isClosed)
    }
}
