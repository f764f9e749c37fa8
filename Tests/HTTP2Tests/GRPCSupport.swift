import BinaryCoding
import GRPC
@testable import HTTP2
import TestSupport

/// ingest-and-ops.md §1.7: the 246-byte `segmentwriter.v1.PushRequest`.
enum SpecExample {
    static let pushPath: ByteString = "/segmentwriter.v1.SegmentWriterService/Push"
    static let pprof = hexBytes("""
        0a040801100212090a0101120480ade20422060801220208012a040801100332003203637075
        320b6e616e6f7365636f6e647332046d61696e488080a8b1e39fe7cb175a04080110026080ade204
        """)
    static let pushRequest = hexBytes("0a09616e6f6e796d6f7573")
        + hexBytes("12170a085f5f6e616d655f5f120b70726f636573735f637075")
        + hexBytes("12160a0c736572766963655f6e616d6512066d792d617070")
        + hexBytes("224e") + pprof
        + hexBytes("2a100f8fad5bd9cb469fa16570867728950e")
        + hexBytes("300a")
        + hexBytes("3a540a187079726f73636f70652e696e676573742e73616d706c6564")
        + hexBytes("12387b22626f6479223a7b22736f75726365223a7b22757361676547726f7570223a2267222c2270726f626162696c697479223a302e357d7d7d")
}

/// A client and a server connection wired back to back in memory.
final class GRPCPair {
    let client: GRPCClientConnection
    let server: GRPCServerConnection
    var toServer = ByteWriter()
    var toClient = ByteWriter()
    /// Every byte the client sent, in order.
    var clientWire: [UInt8] = []
    var serverWire: [UInt8] = []
    var clientEvents: [String] = []

    init(methods: [ByteString] = [SpecExample.pushPath], tweak: (inout GRPCServerConfiguration) -> Void = { _ in }) {
        var config = GRPCServerConfiguration(methods: methods)
        tweak(&config)
        server = GRPCServerConnection(configuration: config)
        client = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: "segment-writer:9095"))
        client.start(into: &toServer)
        server.start(into: &toClient)
    }

    /// Shuttles bytes until both directions are quiet, feeding each side `chunk` bytes at a time.
    func run(chunk: Int = Int.max,
             server onServer: (GRPCServerEvent, inout ByteWriter) -> Void = { _, _ in },
             client onClient: (GRPCClientEvent, inout ByteWriter) -> Void = { _, _ in }) {
        var rounds = 0
        while !toServer.bytes.isEmpty || !toClient.bytes.isEmpty {
            rounds += 1
            precondition(rounds < 10_000, "no progress")
            let forServer = toServer.bytes
            toServer.bytes.removeAll(keepingCapacity: true)
            clientWire += forServer
            Self.chunks(forServer, chunk) { raw in
                var input = raw
                while let e = server.next(&input, into: &toClient) { onServer(e, &toClient) }
            }
            let forClient = toClient.bytes
            toClient.bytes.removeAll(keepingCapacity: true)
            serverWire += forClient
            Self.chunks(forClient, chunk) { raw in
                var input = raw
                while let e = client.next(&input, into: &toServer) {
                    clientEvents.append(Self.describe(e))
                    onClient(e, &toServer)
                }
            }
        }
    }

    static func chunks(_ bytes: [UInt8], _ size: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + min(size, bytes.count - start))
            Array(bytes[start..<end]).withUnsafeBytes(body)
            start = end
        }
    }

    static func describe(_ e: GRPCClientEvent) -> String {
        switch e {
        case .ready: return "ready"
        case .responseHeaders(let c, _): return "headers \(c.stream)"
        case .message(let c, let m): return "message \(c.stream) \(m.count)"
        case .finished(let c, let s, _): return "finished \(c.stream) \(s.code) \(s.message)"
        case .goAway(let last, let code): return "goaway \(last) \(code)"
        case .connectionError(let code, let why): return "error \(code) \(why)"
        }
    }
}

/// Decodes every header block in `wire` (one direction of a connection) in order.
func headerBlocks(_ wire: [UInt8]) throws -> [(StreamID, [HeaderField], endStream: Bool)] {
    var decoder = HPACKDecoder()
    var out: [(StreamID, [HeaderField], endStream: Bool)] = []
    let start = wire.starts(with: HTTP2Connection.preface) ? HTTP2Connection.preface.count : 0
    var block: [UInt8] = []
    var endStream = false
    for (h, p) in splitFrames(Array(wire[start...])) where h.type == .headers || h.type == .continuation {
        if h.type == .headers { block = []; endStream = h.has(FrameFlags.endStream) }
        block += p
        if h.has(FrameFlags.endHeaders) { out.append((h.streamID, try decodeBlock(&decoder, block) ?? [], endStream)) }
    }
    return out
}
