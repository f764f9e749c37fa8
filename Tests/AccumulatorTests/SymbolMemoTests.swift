import BinaryCoding
import Testing
import TestSupport
@testable import Accumulator

/// The groups of one split push (path d) share what they intern: an id an earlier group
/// interned is reused, not looked up again. The partition must come out exactly as if each
/// group had been its own push (same source tables, same first-reference order), and nothing
/// may leak into the next push, whose tables differ.
@Suite struct SymbolMemoTests {
    static let groups = 8, samplesPerGroup = 6

    /// Every sample of group k carries `pod=p<k>`; stacks overlap across groups and all end
    /// in location 14, so every group's profile has the same tables (functions f1…f14).
    /// With `traces`, odd samples also carry a `trace_id` (not grouped on): the table then
    /// spells "trace_id", and every group visits all its symbols' strings again.
    static func spec(groups: Range<Int>, traces: Bool) -> ProfileSpec {
        var spec = ProfileSpec(types: [("alloc", "count"), ("alloc", "bytes")])
        for k in groups {
            for j in 0 ..< samplesPerGroup {
                let i = k * samplesPerGroup + j
                var labels: [(ByteString, ByteString)] = [("pod", ByteString("p\(k)"))]
                if traces && i % 2 == 1 { labels.append(("trace_id", "000102030405060708090a0b0c0d0e0f")) }
                spec.samples.append(([UInt64(i % 11 + 1), UInt64(i * 7 % 13 + 1), 14], [Int64(i + 1), Int64(i * 3)], labels))
            }
        }
        return spec
    }

    static func push(_ profile: [UInt8], _ n: UInt8) -> TestPush {
        TestPush(tenant: "t", labels: HeadSemanticsTests.base, profile: profile, id: profileID(n))
    }

    @Test(arguments: [false, true])
    func groupsOfOnePushShareInternedSymbols(traces: Bool) throws {
        let other = Self.push(try corpusFile("go.cpu.labels.pprof"), 9)
        let split = Self.push(Self.spec(groups: 0 ..< Self.groups, traces: traces).encoded(), 1)
        let perGroup = (0 ..< Self.groups).map {
            Self.push(Self.spec(groups: $0 ..< $0 + 1, traces: traces).encoded(), UInt8(10 + $0))
        }

        // The split push, a push with other tables (its own groups), the split push again.
        let acc = ShardAccumulator()
        var expected = FoldedSums()
        for p in [split, other, split] {
            try acc.ingest(p)
            try referenceFold(p, into: &expected)
        }
        let object = try #require(acc.flushObject()).bytes
        #expect(try readBack(object) == expected)

        // Each group as its own push, in the same sequence.
        let reference = ShardAccumulator()
        for p in perGroup + [other] + perGroup { try reference.ingest(p) }
        let symbols = try readDatasets(object)[0].symbols
        let referenceSymbols = try readDatasets(try #require(reference.flushObject()).bytes)[0].symbols
        #expect(symbols.strings == referenceSymbols.strings)
        #expect(symbols.functions == referenceSymbols.functions)
        #expect(symbols.locations == referenceSymbols.locations)
        #expect(symbols == referenceSymbols)
    }
}
