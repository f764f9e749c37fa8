import FuzzChecks
import Testing

/// The fuzzer's memberlist check (`make fuzz FUZZ_INPUT=memberlist`): its seeds are replies the
/// reader takes (so a run starts inside the format), and their corruptions are refused.
@Suite struct MemberlistReplyCheckTests {
    @Test func seedsCarryOneInstance() {
        for seed in MemberlistReplyCheck.seeds {
            #expect(seed.bytes.withUnsafeBytes { MemberlistReplyCheck().check($0) } == "instances 1", "\(seed.name)")
        }
    }

    @Test func truncatedSeedsAreRefused() {
        for seed in MemberlistReplyCheck.seeds {
            let cut = Array(seed.bytes.dropLast(9))
            #expect(cut.withUnsafeBytes { MemberlistReplyCheck().check($0) }.hasPrefix("refused"), "\(seed.name)")
        }
    }
}
