import BinaryCoding
import SymbolDB
import Testing
import TestSupport
@testable import Accumulator

/// A split group's locations are interned in first-reference order (profiles-parquet.md §2.2 e),
/// whether its samples are consecutive in the profile (one walk over their frames) or not
/// (a walk per sample), and frames already seen (within four at a time too) are not listed again.
/// Long consecutive runs (many frames per location) take the first-block walk (`FirstBlocks`).
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

    /// Deep stacks over few locations, one group consecutive (first-block walk) and then the
    /// same samples interleaved with the other group (frame by frame): one partition order.
    @Test func longConsecutiveGroupInternsInFirstReferenceOrder() throws {
        var rng = SplitMix64(seed: 7)
        let stacks: [(pod: ByteString, frames: [UInt64])] = (0 ..< 40).map { i in
            (i % 3 == 0 ? "b" : "a", (0 ..< Int.random(in: 1 ... 30, using: &rng)).map { _ in UInt64.random(in: 1 ... 11, using: &rng) })
        }
        let consecutive = stacks.indices.filter { stacks[$0].pod == "a" } + stacks.indices.filter { stacks[$0].pod == "b" }
        for order in [consecutive, Array(stacks.indices)] {
            // Groups in the order of their first sample.
            let pods: [ByteString] = stacks[order[0]].pod == "a" ? ["a", "b"] : ["b", "a"]
            var expected: [String] = [], seen = Set<UInt64>()
            for pod in pods {
                for s in order where stacks[s].pod == pod {
                    for f in stacks[s].frames where seen.insert(f).inserted { expected.append("f\(f)") }
                }
            }
            let spec = ProfileSpec(samples: order.map { (stacks[$0].frames, [Int64($0 + 1)], [(ByteString("pod"), stacks[$0].pod)]) })
            #expect(try locationNames(spec) == expected)
        }
    }

    /// `FirstBlocks` against a plain first-reference walk: runs of every length around the
    /// block size (partial last blocks), few and many locations, frames already stamped.
    @Test func firstBlocksListLikeAFrameByFrameWalk() {
        var rng = SplitMix64(seed: 11)
        for count in 0 ... 90 {
            let locations = Int.random(in: 1 ... 12, using: &rng)
            let frames = (0 ..< count).map { _ in UInt32.random(in: 0 ..< UInt32(locations), using: &rng) }
            var stamp = (0 ..< locations).map { _ in UInt32.random(in: 0 ... 3, using: &rng) }
            let gen: UInt32 = 3
            var expected: [Int32] = []
            var stamped = stamp
            for f in frames where stamped[Int(f)] != gen {
                stamped[Int(f)] = gen
                expected.append(Int32(f))
            }
            var firstBlock = [UInt32](repeating: 0, count: locations)
            var bits = [UInt64](repeating: 0, count: FirstBlocks.words(frames: count))
            var out = [Int32](repeating: -1, count: locations)
            var n = 0
            frames.withUnsafeBufferPointer { frames in
                firstBlock.withUnsafeMutableBufferPointer { firstBlock in
                    bits.withUnsafeMutableBufferPointer { bits in
                        stamp.withUnsafeMutableBufferPointer { stamp in
                            out.withUnsafeMutableBufferPointer { out in
                                FirstBlocks(frames: frames, firstBlock: firstBlock, bits: bits).collect(stamp, gen, out, &n)
                            }
                        }
                    }
                }
            }
            #expect(Array(out[..<n]) == expected, "\(count) frames over \(locations) locations")
            #expect(stamp == stamped)
            #expect(bits.allSatisfy { $0 == 0 })
        }
    }
}
