import Foundation
import FuzzChecks
import Pprof
import Testing
import TestSupport

/// The fuzzer's check (`make fuzz`) on inputs whose outcome is known: it must hold for the
/// corpus, see both outcomes, and keep holding on mutated inputs.
@Suite struct IngestCheckTests {
    static let refusedCorpusFiles: Set<String> = ["dotnet-pprof-3.pb.gz", "dotnet.labels.pprof", "pyspy-1.pb.gz"]

    static func check(_ input: IngestCheck.Input) throws -> IngestCheck {
        try IngestCheck(seedProfile: try TestData.bytes(TestData.pprofDirectory.appendingPathComponent("profile_nodejs")), input: input)
    }

    static func outcome(_ check: IngestCheck, _ bytes: [UInt8]) throws -> IngestCheck.Outcome {
        try bytes.withUnsafeBytes { raw throws(FuzzViolation) in try check.check(raw) }
    }

    @Test(arguments: [IngestCheck.Input.profile, .push])
    func corpusFilesAreAcceptedExceptTheUnsplittable(_ input: IngestCheck.Input) throws {
        let check = try Self.check(input)
        for url in try TestData.pprofFiles() {
            let profile = try TestData.bytes(url)
            let bytes = input == .profile ? profile : IngestCheck.push(profile: profile)
            let outcome = try Self.outcome(check, bytes)
            if Self.refusedCorpusFiles.contains(url.lastPathComponent) {
                #expect(outcome == .refused(.profileUndecodable), "\(url.lastPathComponent)")
            } else {
                #expect(outcome == .accepted, "\(url.lastPathComponent)")
            }
        }
    }

    @Test func refusedPushesOfEachKindKeepThePromise() throws {
        let check = try Self.check(.push)
        let profile = try TestData.bytes(TestData.pprofDirectory.appendingPathComponent("profile_python"))
        var noTenant = PushRequestMessage(tenantID: "", profile: profile, profileID: Array(0 ..< 16))
        #expect(try Self.outcome(check, noTenant.encode()) == .refused(.missingTenant))
        noTenant.tenantID = "t"
        noTenant.profileID = [1, 2, 3]
        #expect(try Self.outcome(check, noTenant.encode()) == .refused(.invalidProfileID))
        #expect(try Self.outcome(check, [0x0A, 0xFF]) == .refused(.requestUndecodable))
    }

    /// Bytes flipped, cut and repeated in a raw profile, from a fixed seed: every outcome keeps
    /// the promise, and the mutations reach both outcomes.
    @Test func mutatedProfilesKeepThePromise() throws {
        let check = try Self.check(.profile)
        let original = try Self.rawProfile("profile_python")
        var random = SplitMix64(seed: 0x5EED_F022)
        var accepted = 0, refused = 0
        for _ in 0 ..< 300 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &random) {
                let at = Int.random(in: 0 ..< bytes.count, using: &random)
                switch Int.random(in: 0 ..< 3, using: &random) {
                case 0: bytes[at] ^= UInt8.random(in: 1 ... 255, using: &random)
                case 1: bytes.removeSubrange(at ..< min(bytes.count, at + Int.random(in: 1 ... 64, using: &random)))
                default: bytes.insert(contentsOf: bytes[at ..< min(bytes.count, at + 16)], at: at)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            if try Self.outcome(check, bytes) == .accepted { accepted += 1 } else { refused += 1 }
        }
        #expect(accepted > 0 && refused > 0, "accepted \(accepted), refused \(refused)")
    }

    /// Pushes for several datasets in one segment, refused ones among them.
    @Test func sequencesKeepThePromise() throws {
        let check = try IngestCheck(seedProfile: try TestData.bytes(TestData.pprofDirectory.appendingPathComponent("profile_nodejs")),
                                    input: .profileSequence)
        let profiles = try TestData.pprofFiles().map { (name: $0.lastPathComponent, bytes: try TestData.bytes($0)) }
        for seed in FuzzTarget.seeds(for: .sequence, profiles: profiles) {
            #expect(try Self.outcome(check, seed.bytes) == .accepted, "\(seed.name)")
        }
        let good = [UInt8(6)] + (try Self.rawProfile("profile_python"))
        let garbage: [UInt8] = [1, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3, 4, 5, 6]  // a length past the end
        let separator = IngestCheck.sequenceSeparator
        #expect(try Self.outcome(check, good + separator + garbage + separator + good) == .accepted)
        #expect(try Self.outcome(check, garbage + separator + garbage) == .refused(.profileUndecodable))
    }

    static func rawProfile(_ name: String) throws -> [UInt8] {
        let file = try TestData.bytes(TestData.pprofDirectory.appendingPathComponent(name))
        let inflater = ProfileInflater()
        return try file.withUnsafeBytes { raw in Array(try inflater.inflate(raw)) }
    }
}
