import BinaryCoding
import Testing
@testable import GRPC
@testable import HTTP2
import TestSupport

/// What one read of a client's bytes can make the server write. A `:path` the client sent once
/// and then indexes costs it 13 bytes per HEADERS frame, and each such request is answered
/// UNIMPLEMENTED, quoting the path: the quote is cut short.
@Suite struct GRPCAnswerBoundTests {
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
}
