import FuzzChecks
import Testing
import TestSupport

/// The fuzzer's metastore check (`make fuzz FUZZ_INPUT=metastore`): our server's answers to the
/// client's AddBlock arrive whatever the read sizes, the leader hint is read from the status
/// details, and cut or mutated answers keep the promise.
@Suite struct GRPCClientCheckTests {
    static func run(_ bytes: [UInt8]) throws -> GRPCClientCheck.Summary {
        try bytes.withUnsafeBytes { raw throws(FuzzViolation) in try GRPCClientCheck().check(raw) }
    }

    @Test(arguments: [UInt8(0), 1, 9, 200])
    func answersArriveWhateverTheReadSizes(_ readSize: UInt8) throws {
        let seeds = GRPCClientCheck.seeds
        let ok = try Self.run([readSize] + seeds[0].bytes.dropFirst())
        #expect(ok.calls == 1 && ok.messages == 1 && ok.finished == [.ok] && ok.leaderHints == 0, "\(ok)")
        let notLeader = try Self.run([readSize] + seeds[1].bytes.dropFirst())
        #expect(notLeader.finished == [.unavailable] && notLeader.leaderHints == 1, "\(notLeader)")
    }

    @Test func cutAndMutatedAnswersKeepThePromise() throws {
        let answer = GRPCClientCheck.seeds[1].bytes
        for cut in 1 ..< answer.count { _ = try Self.run(Array(answer.prefix(cut))) }
        var random = SplitMix64(seed: 0xA11B)
        for _ in 0 ..< 300 {
            var bytes = answer
            bytes[Int.random(in: 1 ..< bytes.count, using: &random)] = UInt8.random(in: 0 ... 255, using: &random)
            _ = try Self.run(bytes)
        }
    }
}
