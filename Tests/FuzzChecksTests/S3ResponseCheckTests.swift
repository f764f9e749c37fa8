import FuzzChecks
import Testing

/// The fuzzer's S3 check (`make fuzz FUZZ_INPUT=s3`) on answers whose outcome is known.
@Suite struct S3ResponseCheckTests {
    static func run(_ bytes: [UInt8]) throws -> S3ResponseCheck.Summary {
        try bytes.withUnsafeBytes { raw throws(FuzzViolation) in try S3ResponseCheck().check(raw) }
    }

    @Test func seedsParseAsAnEndpointMeantThem() throws {
        let summaries = try S3ResponseCheck.seeds.map { try Self.run($0.bytes) }
        #expect(summaries.map(\.responses) == [1, 1, 1, 1])
        #expect(summaries.map(\.errors) == [0, 1, 0, 0])
        #expect(summaries[2].keys == 2)
        #expect(summaries.allSatisfy { $0.failure == nil }, "\(summaries)")
    }

    @Test func aBodyCutByTheConnectionAndAnOversizedOneFail() throws {
        let cut = Array(S3ResponseCheck.seeds[1].bytes.dropLast(40))
        #expect(try Self.run(cut).failure == "connection closed mid-response")
        let large = [0] + Array("HTTP/1.1 200 OK\r\nContent-Length: \(S3ResponseCheck.maxBodyBytes + 1)\r\n\r\n".utf8)
        #expect(try Self.run(large).failure?.contains("exceeds the limit") == true)
    }
}
