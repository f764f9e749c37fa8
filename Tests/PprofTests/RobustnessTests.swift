import TestSupport
import BinaryCoding
import Pprof
import Testing

/// Readers are total: every truncation and thousands of seeded mutations of real data either
/// decode or throw a typed error; none traps or hangs (HELPERS.md "Rules for the code").
@Suite struct RobustnessTests {
    /// Decodes and resolves `bytes`; returns whether it succeeded. Only typed errors may escape.
    @discardableResult
    static func survives(_ bytes: [UInt8], _ inflater: ProfileInflater, _ decoder: PprofDecoder) -> Bool {
        bytes.withUnsafeBytes { raw in
            do throws(PushError) {
                let profile = try inflater.inflate(raw)
                do throws(PprofError) {
                    try decoder.decode(profile)
                    try decoder.resolveReferences()
                } catch {
                    throw PushError(error)
                }
                return true
            } catch {
                #expect(error.statusCode == 3)
                return false
            }
        }
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
            guard !b.isEmpty else { break }
            let i = Int.random(in: 0 ..< b.count, using: &rng)
            switch Int.random(in: 0 ..< 6, using: &rng) {
            case 0: b[i] ^= UInt8(1) << UInt8.random(in: 0 ..< 8, using: &rng)
            case 1: b[i] = UInt8.random(in: 0 ... 255, using: &rng)
            case 2: b.insert(UInt8.random(in: 0 ... 255, using: &rng), at: i)
            case 3: b.remove(at: i)
            case 4: b.removeSubrange(i...)
            default: b[i] = [0x00, 0x7F, 0x80, 0xFF][Int.random(in: 0 ..< 4, using: &rng)]
            }
        }
        return b
    }

    @Test func everyTruncationOfARawProfileDecodesOrThrows() throws {
        let whole = try corpusFile("pyspy-1.pb.gz") // raw despite its name
        let inflater = ProfileInflater()
        let decoder = PprofDecoder()
        var decoded = 0
        for cut in 0 ... whole.count where Self.survives(Array(whole.prefix(cut)), inflater, decoder) { decoded += 1 }
        #expect(decoded >= 1) // at least the whole file
    }

    @Test func everyTruncationOfAGzipProfileIsRefused() throws {
        let whole = try corpusFile("invalid_utf8.pb.gz")
        let inflater = ProfileInflater()
        let decoder = PprofDecoder()
        for cut in 0 ..< whole.count { #expect(!Self.survives(Array(whole.prefix(cut)), inflater, decoder), "cut \(cut)") }
        #expect(Self.survives(whole, inflater, decoder))
    }

    @Test func everyTruncationOfThePushRequestDecodesOrThrows() {
        for cut in 0 ... SpecExample.request.count {
            if let error = pushError(Array(SpecExample.request.prefix(cut))) {
                #expect([3, 13].contains(error.statusCode))
            }
        }
    }

    @Test(arguments: ["pyspy-1.pb.gz", "invalid_utf8.pb.gz", "no_addr_no_line.pb.gz", "nodejs-wall.pb.gz", "profile_nodejs"])
    func seededMutationsOfRealProfilesDecodeOrThrow(_ name: String) throws {
        let stored = try corpusFile(name)
        let inflater = ProfileInflater()
        let decoder = PprofDecoder()
        let raw = try stored.withUnsafeBytes { Array(try inflater.inflate($0)) }
        var rng = SplitMix64(seed: UInt64(name.utf8.count) &* 0x5DEECE66D)
        var decoded = 0
        for _ in 0 ..< 1000 where Self.survives(Self.mutate(raw, &rng), inflater, decoder) { decoded += 1 }
        // Gzip members: a mutation is almost always caught by the CRC, never a crash.
        if stored.starts(with: [0x1F, 0x8B]) {
            for _ in 0 ..< 200 { Self.survives(Self.mutate(stored, &rng), inflater, decoder) }
        }
        #expect(decoded > 0) // some mutations hit values only
    }

    @Test func seededMutationsOfThePushRequestDecodeOrThrow() {
        var rng = SplitMix64(seed: 246)
        for _ in 0 ..< 3000 {
            let mutated = Self.mutate(SpecExample.request, &rng)
            mutated.withUnsafeBytes { raw in
                do throws(PushError) {
                    let view = try PushRequestView(raw)
                    // A decodable request re-walks its repeated fields without trapping.
                    #expect(view.labels.reduce(0) { n, _ in n + 1 } == view.labelCount)
                    #expect(view.annotations.reduce(0) { n, _ in n + 1 } == view.annotationCount)
                } catch {
                    #expect([3, 8, 13].contains(error.statusCode))
                }
            }
        }
    }

    @Test func hostileCountsAndLengthsAreRefusedWithoutAllocating() throws {
        var w = ByteWriter()
        w.appendTag(2, .lengthDelimited)
        w.appendUvarint(UInt64(Int64.max)) // a Sample claiming 2^63 bytes
        let d = PprofDecoder()
        #expect(throws: PprofError.self) { try w.bytes.withUnsafeBytes { try d.decode($0) } }
        // A 10-byte varint overflowing 64 bits.
        let overflow: [UInt8] = [0x48] + Array(repeating: 0xFF, count: 9) + [0x02]
        #expect(throws: PprofError.self) { try overflow.withUnsafeBytes { try d.decode($0) } }
        // Wrong wire type for a known field (vtproto refuses it).
        var wrong = ByteWriter()
        wrong.appendBytesField(9, [1, 2, 3])
        #expect(throws: PprofError.self) { try wrong.bytes.withUnsafeBytes { try d.decode($0) } }
    }
}
