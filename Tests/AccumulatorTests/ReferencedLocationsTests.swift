import BinaryCoding
import SymbolDB
import Testing
@testable import Accumulator

/// A split group's locations are interned in first-reference order (profiles-parquet.md §2.2 e),
/// whether its samples are consecutive in the profile (one walk over their frames) or not
/// (a walk per sample), and frames already seen (within four at a time too) are not listed again.
@Suite struct ReferencedLocationsTests {
    /// The partition's locations as the names of their functions, in partition order.
    func locationNames(_ spec: ProfileSpec) throws -> [String] {
        let acc = ShardAccumulator()
        try acc.ingest(TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: spec.encoded(), id: profileID(1)))
        let object = try #require(acc.flushObject())
        let symbols = try #require(try readDatasets(object.bytes).first).symbols
        return symbols.locations.compactMap { location in
            location.lines.first.map { symbols.strings[Int(symbols.functions[Int($0.functionID)].name)].description }
        }
    }

    static let stacks: [(pod: ByteString, frames: [UInt64])] = [
        ("a", [3, 1, 3, 7, 6, 1, 9]), ("b", [2, 4]), ("a", [5, 3]), ("b", [1, 2, 8, 4, 2, 10]), ("a", [11]),
    ]
    static let expected = ["f3", "f1", "f7", "f6", "f9", "f5", "f11", "f2", "f4", "f8", "f10"]

    func spec(_ order: [Int]) -> ProfileSpec {
        ProfileSpec(samples: order.map { (Self.stacks[$0].frames, [Int64($0 + 1)], [(ByteString("pod"), Self.stacks[$0].pod)]) })
    }

    /// Group `pod=a` is samples 0, 2, 4 (not consecutive), then `pod=b` (1, 3).
    @Test func interleavedGroupsInternInFirstReferenceOrder() throws {
        #expect(try locationNames(spec([0, 1, 2, 3, 4])) == Self.expected)
    }

    /// The same samples grouped together: each group's samples are consecutive.
    @Test func consecutiveGroupsInternInFirstReferenceOrder() throws {
        #expect(try locationNames(spec([0, 2, 4, 1, 3])) == Self.expected)
    }
}
