import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

/// Readers are total: truncations and mutations decode or throw `DecodeError`, never trap or hang.
@Suite struct TotalityTests {
    /// Decoding either succeeds or throws a DecodeError; a crash fails the whole run.
    func survives(_ bytes: [UInt8], verifyingChecksums: Bool = true) -> Bool {
        do {
            _ = try bytes.withUnsafeBytes { try ProfilesParquetReader.read($0, verifyingChecksums: verifyingChecksums) }
            return true
        } catch {
            return false
        }
    }

    @Test func everyTruncationOfAGoldenSectionThrows() throws {
        let golden = try GoldenSections.all()[8].profiles
        for n in 0 ..< golden.count {
            #expect(!survives(Array(golden.prefix(n))), "prefix \(n)")
        }
        // Cutting the front breaks the leading magic; cutting inside keeps framing but moves data.
        for n in stride(from: 1, to: golden.count, by: 7) {
            _ = survives(Array(golden.dropFirst(n)))
            _ = survives(Array("PAR1".utf8) + Array(golden.dropFirst(n)))
        }
    }

    /// Mutations of the footer and headers (with CRC checks) and of page bodies (without, so the
    /// decoders themselves see the garbage).
    @Test func seededMutationsNeverCrash() throws {
        let inputs = [try GoldenSections.all()[9].profiles, writeSection(SampleTables.synthetic())]
        var rng = SplitMix64(seed: 0x5eed)
        var decoded = 0
        for trial in 0 ..< 4000 {
            var bytes = inputs[trial % inputs.count]
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0 ..< edits {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] ^= UInt8(1 << (rng.next() % 8))
                case 1: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 2: bytes[at] = [0x00, 0xff, 0x7f, 0x80, 0x15, 0x19][Int(rng.next() % 6)]
                default:
                    let n = min(Int(rng.next() % 8) + 1, bytes.count - at)
                    bytes.replaceSubrange(at ..< at + n, with: (0 ..< n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                }
            }
            if survives(bytes, verifyingChecksums: trial % 2 == 0) { decoded += 1 }
        }
        #expect(decoded < 4000)
    }

    @Test func randomBytesIntoTheDecoders() {
        var rng = SplitMix64(seed: 42)
        for _ in 0 ..< 3000 {
            let bytes = (0 ..< Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? decodeDelta(bytes, maxCount: Int(rng.next() % 2000))
            _ = try? decodeHybrid(bytes, bitWidth: Int(rng.next() % 33), count: Int(rng.next() % 2000))
            _ = try? bytes.withUnsafeBytes { try FileMetadata.decode($0) }
        }
    }

    @Test func forgedCountsAreRefused() throws {
        // A DELTA header claiming 2^40 values in a 6-byte stream is refused before any allocation.
        var w = ByteWriter()
        w.appendUvarint(128); w.appendUvarint(4); w.appendUvarint(1 << 40); w.appendVarint(0)
        #expect(throws: DecodeError.self) { try decodeDelta(w.bytes, maxCount: 1000) }
        // A Thrift list header claiming more elements than bytes left.
        let footer: [UInt8] = [0x19, 0xfc, 0xff, 0xff, 0xff, 0x0f]
        #expect(throws: DecodeError.self) { try footer.withUnsafeBytes { try FileMetadata.decode($0) } }
    }
}
