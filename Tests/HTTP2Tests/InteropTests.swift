import BinaryCoding
import Testing
@testable import GRPC
@testable import HTTP2
import TestSupport

/// Bytes produced by another implementation (python-h2 4.4.1 with hpack 4.2.0, generated once with
/// its sans-I/O connection objects): our server reads a foreign client, our client reads a
/// foreign server. The reverse directions were checked by feeding our bytes to python-h2.
@Suite struct InteropTests {
    /// python-h2 client: preface, SETTINGS, HEADERS (Huffman, incremental indexing,
    /// `grpc-timeout: 100m`), one DATA frame with the §1.7 Push message and END_STREAM.
    static let pythonClientRequest = hexBytes("""
        505249202a20485454502f322e300d0a0d0a534d0d0a0d0a00002a04000000000000010000100000020000000100040000ff
        ff00050000400000080000000000030000006400060001000000005a0104000000018386449f61059a92d49f161925b17ee1
        5f7166a4b5279586496cdc5b3b9885635da89f418e4166a4b5256f161925b2e3e07dbf5f8b1d75d0620d263d4c4d65644082
        497f864d833505b11f40899acac8b24d494f6a7f8308014f0000fb00010000000100000000f60a09616e6f6e796d6f757312
        170a085f5f6e616d655f5f120b70726f636573735f63707512160a0c736572766963655f6e616d6512066d792d617070224e
        0a040801100212090a0101120480ade20422060801220208012a040801100332003203637075320b6e616e6f7365636f6e64
        7332046d61696e488080a8b1e39fe7cb175a04080110026080ade2042a100f8fad5bd9cb469fa16570867728950e300a3a54
        0a187079726f73636f70652e696e676573742e73616d706c656412387b22626f6479223a7b22736f75726365223a7b227573
        61676547726f7570223a2267222c2270726f626162696c697479223a302e357d7d7d
        """)

    /// python-h2 server answering our client's §1.7 unary call: SETTINGS, SETTINGS ACK,
    /// HEADERS, DATA (`08 01`), trailers with `grpc-message: all%20good`.
    static let pythonServerResponse = hexBytes("""
        00002a04000000000000010000100000020000000000040000ffff0005000040000008000000000003000000640006000100
        0000000004010000000000000e010400000001885f8b1d75d0620d263d4c4d65640000070000000000010000000002080100
        001f01050000000140889acac8b21234da8f810740899acac8b5254207317f871d142a204c73c9
        """)

    @Test func serverReadsAForeignClient() {
        let server = GRPCServerConnection(configuration: GRPCServerConfiguration(methods: [SpecExample.pushPath]))
        var out = ByteWriter()
        server.start(into: &out)
        var log: [String] = []
        Self.pythonClientRequest.withUnsafeBytes { raw in
            var input = raw
            while let event = server.next(&input, into: &out) {
                switch event {
                case .call(let c, let method, let metadata, let timeout):
                    log.append("call \(c.stream) \(method) \(timeout ?? 0) \(metadata.first(named: ":authority") ?? "")")
                case .message(let c, let m):
                    if case .view = m { log.append("view") }
                    log.append("message \(m.bytes == SpecExample.pushRequest)")
                    [UInt8]().withUnsafeBytes { server.respond(c, message: $0, into: &out) }
                case .halfClosed(let c): log.append("halfClosed \(c.stream)")
                default: log.append("\(event)")
                }
            }
        }
        #expect(log == ["call 1 0 100000000 segment-writer:9095", "view", "message true"])
        #expect(server.activeCallCount == 0 && server.http2.activeStreamCount == 0)
        // An uncompressed call allocates no gzip codec (a compressor is 0.7 MB of address space).
        #expect(server.gzip.holdsCodecs == (false, false))
    }

    @Test func clientReadsAForeignServer() {
        let client = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: "segment-writer:9095"))
        var out = ByteWriter()
        client.start(into: &out)
        _ = SpecExample.pushRequest.withUnsafeBytes { client.unary(path: SpecExample.pushPath, request: $0, into: &out) }
        var log: [String] = []
        Self.pythonServerResponse.withUnsafeBytes { raw in
            var input = raw
            while let event = client.next(&input, into: &out) {
                switch event {
                case .message(_, let m): log.append("message \(m.bytes)")
                default: log.append(GRPCPair.describe(event))
                }
            }
        }
        #expect(log == ["ready", "headers 1", "message [8, 1]", "finished 1 ok all good"])
    }
}
