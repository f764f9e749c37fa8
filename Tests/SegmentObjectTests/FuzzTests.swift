import BinaryCoding
import Foundation
import Testing
@testable import SegmentObject
import TestSupport

/// One random damage: truncation, bit flips, garbage, insertion, deletion. Positions favour the
/// places readers look at first (both ends, section boundaries).
func mutate(_ bytes: [UInt8], hotSpots: [Int], _ rng: inout SplitMix64) -> [UInt8] {
    var b = bytes
    func position() -> Int {
        guard !b.isEmpty else { return 0 }
        switch Int.random(in: 0 ..< 4, using: &rng) {
        case 0: return max(0, b.count - 1 - Int.random(in: 0 ..< min(b.count, 64), using: &rng))
        case 1:
            let h = hotSpots.randomElement(using: &rng) ?? 0
            return min(b.count - 1, max(0, h + Int.random(in: -24 ... 24, using: &rng)))
        default: return Int.random(in: 0 ..< b.count, using: &rng)
        }
    }
    switch Int.random(in: 0 ..< 6, using: &rng) {
    case 0:
        b.removeLast(b.isEmpty ? 0 : Int.random(in: 1 ... b.count, using: &rng))
    case 1, 2:
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) where !b.isEmpty {
            b[position()] ^= UInt8(1) << UInt8.random(in: 0 ..< 8, using: &rng)
        }
    case 3:
        guard !b.isEmpty else { break }
        let p = position()
        for i in p ..< min(b.count, p + Int.random(in: 1 ... 16, using: &rng)) { b[i] = UInt8.random(in: 0 ... 255, using: &rng) }
    case 4:
        let p = position()
        b.insert(contentsOf: (0 ..< Int.random(in: 1 ... 8, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }, at: min(p, b.count))
    default:
        guard !b.isEmpty else { break }
        let p = position()
        b.removeSubrange(p ..< min(b.count, p + Int.random(in: 1 ... 8, using: &rng)))
    }
    return b
}

/// Readers are total (segment-object.md §15 #18 at scale): thousands of seeded mutations of
/// every golden object, read with external metadata (era A) and by a trailer appended to it,
/// through the container reader and the deep verifier. Any crash or hang fails the run;
/// typed throws make every failure a `DecodeError`.
@Suite struct FuzzTests {
    /// Overridable for longer local runs: `SEGMENT_OBJECT_FUZZ_SCALE=20 swift test --filter FuzzTests`.
    static let scale = Int(ProcessInfo.processInfo.environment["SEGMENT_OBJECT_FUZZ_SCALE"] ?? "") ?? 1

    struct Target {
        var bytes: [UInt8]
        var meta: BlockMeta?
        var hotSpots: [Int]
    }

    static func targets() throws -> [Target] {
        try GoldenObject.all().flatMap { g -> [Target] in
            let spots = g.meta.datasets.flatMap { $0.tableOfContents.map(Int.init) + [Int($0.tableOfContents[0] + $0.size)] }
            var withTrailer = ByteWriter()
            withTrailer.append(contentsOf: g.bytes)
            var meta = g.meta
            meta.formatVersion = 1
            _ = MetadataTrailer.append(meta, to: &withTrailer)
            return [Target(bytes: g.bytes, meta: g.meta, hotSpots: spots),
                    Target(bytes: withTrailer.bytes, meta: nil, hotSpots: spots + [g.bytes.count])]
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func containerReaderSurvivesThousandsOfMutationsPerObject() throws {
        var rng = SplitMix64(seed: 0x5E6_0B1EC7)
        var rejected = 0, total = 0
        for t in try Self.targets() {
            for _ in 0 ..< 1500 * Self.scale {
                let bytes = mutate(t.bytes, hotSpots: t.hotSpots, &rng)
                total += 1
                do { _ = try openObject(bytes, meta: t.meta) } catch { rejected += 1 }
            }
        }
        // Bytes inside a section that its framing does not cover may change unnoticed here.
        #expect(rejected > total / 4, "\(rejected) of \(total) rejected")
    }

    @Test(.timeLimit(.minutes(1)))
    func deepVerifySurvivesMutationsOfEveryObject() throws {
        var rng = SplitMix64(seed: 0xDEE9_F022)
        var rejected = 0, total = 0
        for t in try Self.targets() {
            for _ in 0 ..< 60 * Self.scale {
                let bytes = mutate(t.bytes, hotSpots: t.hotSpots, &rng)
                total += 1
                do { _ = try verifyObject(bytes, meta: t.meta) } catch { rejected += 1 }
            }
        }
        #expect(rejected > total * 95 / 100, "\(rejected) of \(total) rejected")
    }

    /// The metadata protobuf itself, damaged and then given a valid length and CRC, so the
    /// protobuf decoder and the container checks (not the CRC) must catch it.
    @Test(.timeLimit(.minutes(1)))
    func damagedMetadataWithValidCRCIsRejectedOrConsistent() throws {
        var rng = SplitMix64(seed: 0x3E7A_DA7A)
        var rejected = 0, total = 0
        for g in try GoldenObject.all() {
            var meta = g.meta
            meta.metadataOffset = UInt64(g.bytes.count)
            let protobuf = meta.encoded()
            for _ in 0 ..< 300 * Self.scale {
                var w = ByteWriter()
                w.append(contentsOf: g.bytes)
                let damaged = mutate(protobuf, hotSpots: [], &rng)
                w.append(contentsOf: damaged)
                w.appendBE32(UInt32(damaged.count))
                w.appendBE32(w.crc32c(g.bytes.count ..< w.count))
                total += 1
                do {
                    let layout = try openObject(w.bytes)
                    // Whatever opens must be self-consistent.
                    #expect(layout.datasets.last?.range.upperBound ?? 0 == g.bytes.count)
                } catch {
                    rejected += 1
                }
            }
        }
        #expect(rejected > total / 2, "\(rejected) of \(total) rejected")
    }
}
