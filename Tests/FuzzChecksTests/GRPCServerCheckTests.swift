import FuzzChecks
import Testing
import TestSupport

/// The fuzzer's gRPC check (`make fuzz FUZZ_INPUT=grpc`) on conversations whose outcome is
/// known: every call of a grpc-go client's conversation arrives whatever the read sizes, cut
/// and mutated conversations keep the promise, and a message over the limit never reaches the
/// application.
@Suite struct GRPCServerCheckTests {
    static func pushes() throws -> [[UInt8]] {
        try ["profile_nodejs", "profile_rust", "nodejs-wall.pb.gz"].map {
            IngestCheck.push(profile: try TestData.bytes(TestData.pprofDirectory.appendingPathComponent($0)))
        }
    }

    static func run(_ bytes: [UInt8]) throws -> GRPCServerCheck.Summary {
        try bytes.withUnsafeBytes { raw throws(FuzzViolation) in try GRPCServerCheck().check(raw) }
    }

    @Test(arguments: [false, true], [UInt8(0), 1, 200])
    func everyCallArrivesWhateverTheReadSizes(gzip: Bool, readSize: UInt8) throws {
        let summary = try Self.run(GRPCServerCheck.clientBytes(pushing: try Self.pushes(), gzip: gzip, readSize: readSize))
        #expect(summary.calls == 4 && summary.messages == 4 && summary.connectionError == nil, "\(summary)")
    }

    @Test func cutAndMutatedConversationsKeepThePromise() throws {
        let whole = GRPCServerCheck.clientBytes(pushing: try Self.pushes(), gzip: true, readSize: 17)
        var random = SplitMix64(seed: 0x6E9C)
        var errors = 0
        for cut in stride(from: 1, to: whole.count, by: 997) { _ = try Self.run(Array(whole.prefix(cut))) }
        for _ in 0 ..< 200 {
            var bytes = whole
            for _ in 0 ..< Int.random(in: 1 ... 3, using: &random) {
                bytes[Int.random(in: 1 ..< bytes.count, using: &random)] = UInt8.random(in: 0 ... 255, using: &random)
            }
            if try Self.run(bytes).connectionError != nil { errors += 1 }
        }
        #expect(errors > 0, "some mutations break the framing")
    }

    @Test func aMessageOverTheLimitIsRefusedBeforeTheApplication() throws {
        let large = [UInt8](repeating: 0x41, count: GRPCServerCheck.maxMessageBytes + 1)
        let summary = try Self.run(GRPCServerCheck.clientBytes(pushing: [large], gzip: true, readSize: 0))
        #expect(summary.calls == 2 && summary.messages == 1, "\(summary)")
    }
}
