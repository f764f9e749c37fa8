import FuzzChecks
import Testing

/// The fuzzer's HTTP/1 check (`make fuzz FUZZ_INPUT=http1`) on inputs whose outcome is known.
@Suite struct HTTP1RequestCheckTests {
    static func run(_ bytes: [UInt8]) throws -> HTTP1RequestCheck.Summary {
        try bytes.withUnsafeBytes { raw throws(FuzzViolation) in try HTTP1RequestCheck().check(raw) }
    }

    @Test func seedsParseIntoTheirRequests() throws {
        let counts = try HTTP1RequestCheck.seeds.map { try Self.run($0.bytes).requests }
        #expect(counts == [1, 1, 2, 2])
    }

    /// Whatever the read sizes (the first byte), the same requests come out.
    @Test(arguments: [UInt8(0), 1, 5, 255])
    func readSizesDoNotChangeTheRequests(_ readSize: UInt8) throws {
        let pipelined = HTTP1RequestCheck.seeds.flatMap { $0.bytes.dropFirst() }
        let summary = try Self.run([readSize] + pipelined)
        #expect(summary.requests == 6 && summary.error == nil, "\(summary)")
    }

    @Test func oversizedHeadsAndBodiesEndTheConnection() throws {
        let longHead = [0] + Array("GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: HTTP1RequestCheck.maxHeadBytes))".utf8)
        #expect(try Self.run(longHead).error?.status == 431)
        let largeBody = [0] + Array("POST / HTTP/1.1\r\nContent-Length: \(HTTP1RequestCheck.maxBodyBytes + 1)\r\n\r\n".utf8)
        #expect(try Self.run(largeBody).error?.status == 413)
    }
}
