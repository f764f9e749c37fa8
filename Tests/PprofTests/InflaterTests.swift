import BinaryCoding
import Pprof
import Testing

func inflateError(_ bytes: [UInt8], _ inflater: ProfileInflater = ProfileInflater()) -> PushError? {
    bytes.withUnsafeBytes { raw -> PushError? in
        do throws(PushError) {
            _ = try inflater.inflate(raw)
            return nil
        } catch {
            return error
        }
    }
}

func inflated(_ bytes: [UInt8], _ inflater: ProfileInflater = ProfileInflater()) throws -> [UInt8] {
    try bytes.withUnsafeBytes { Array(try inflater.inflate($0)) }
}

/// ingest-and-ops.md §2.1 and §7 checks 2–3.
@Suite struct InflaterTests {
    @Test func emptyProfileIsGzipResetEOF() throws {
        let error = try #require(inflateError([]))
        #expect(error.kind == .gzipHeader)
        #expect(error.message == "gzip reset: EOF")
        #expect(error.statusCode == 3)
    }

    @Test(arguments: 1 ... 9)
    func shortProfileIsGzipResetUnexpectedEOF(count: Int) throws {
        // Whatever the bytes, even a gzip magic: Go reads a 10-byte header first.
        for bytes in [Array(SpecExample.pprof.prefix(count)), Array([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0].prefix(count))] {
            let error = try #require(inflateError(bytes))
            #expect(error.message == "gzip reset: unexpected EOF")
            #expect(error.statusCode == 3)
        }
    }

    @Test func rawProfileIsPassedThroughWithoutCopy() throws {
        let inflater = ProfileInflater()
        try SpecExample.pprof.withUnsafeBytes { raw in
            let out = try inflater.inflate(raw)
            #expect(out.baseAddress == raw.baseAddress && out.count == raw.count)
        }
        #expect(!inflater.lastInputWasGzip)
    }

    @Test func garbageOfTenBytesIsRawThenAProtobufError() throws {
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let bytes = try inflated(garbage)
        #expect(bytes == garbage)
        let decoder = PprofDecoder()
        #expect(throws: PprofError.self) { try bytes.withUnsafeBytes { try decoder.decode($0) } }
        // As a Push error: INVALID_ARGUMENT.
        let error = bytes.withUnsafeBytes { raw -> PprofError? in
            do throws(PprofError) {
                try decoder.decode(raw)
                return nil
            } catch {
                return error
            }
        }
        #expect(PushError(try #require(error)).statusCode == 3)
    }

    @Test func gzipAndTwoMemberGzipInflateToTheSameBytes() throws {
        let pprof = SpecExample.pprof + SpecExample.pprof // still a valid Profile (fields repeat)
        let one = PprofEncoder.gzip(pprof)
        let two = PprofEncoder.gzip(SpecExample.pprof) + PprofEncoder.gzip(SpecExample.pprof)
        let inflater = ProfileInflater()
        #expect(try inflated(one, inflater) == pprof)
        #expect(inflater.lastInputWasGzip)
        #expect(try inflated(two, inflater) == pprof)
        #expect(try decodeProfile(PprofEncoder.gzip(SpecExample.pprof)) == decodeProfile(SpecExample.pprof))
    }

    @Test func gzipHeaderWithOptionalFieldsIsAccepted() throws {
        var member = PprofEncoder.gzip(SpecExample.pprof)
        member[3] = 0x04 | 0x08 | 0x10 // FEXTRA, FNAME, FCOMMENT
        let optional: [UInt8] = [3, 0, 1, 2, 3] + Array("name".utf8) + [0] + Array("comment".utf8) + [0]
        member.insert(contentsOf: optional, at: 10)
        #expect(try inflated(member) == SpecExample.pprof)
        // Truncated inside the optional fields: a header error.
        #expect(inflateError(Array(member.prefix(14)))?.message == "gzip reset: unexpected EOF")
    }

    @Test func corruptOrTruncatedGzipIsInvalidArgument() throws {
        let member = PprofEncoder.gzip(Array(repeating: 7, count: 10_000) + SpecExample.pprof)
        for cut in [11, member.count / 2, member.count - 1] {
            let error = try #require(inflateError(Array(member.prefix(cut))), "cut \(cut)")
            #expect(error.statusCode == 3)
        }
        var flipped = member
        flipped[flipped.count - 6] ^= 0xFF // CRC-32 trailer
        #expect(inflateError(flipped)?.kind == .gzipCorrupt)
        #expect(inflateError(member + [0x00])?.message == "copy to buffer: unexpected EOF")
        #expect(inflateError(member + Array(repeating: 0x41, count: 12))?.message == "copy to buffer: gzip: invalid header")
    }

    @Test func decompressionBombIsRefusedByTheRatioBound() throws {
        let bomb = PprofEncoder.gzip(Array(repeating: 0, count: 2 << 20), level: 12)
        #expect(bomb.count < 8 << 10)
        let error = try #require(inflateError(bomb))
        #expect(error.kind == .compressionRatioExceeded)
        #expect(error.statusCode == 3)
        // The same bytes pass with the ratio bound off (they stay under 4 MiB).
        #expect(try inflated(bomb, ProfileInflater(maxCompressionRatio: 0)).count == 2 << 20)
    }

    @Test func decompressedSizeIsBoundedExactly() throws {
        let limit = 100_000
        let data = (0 ..< limit).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let inflater = ProfileInflater(maxDecompressedBytes: limit, maxCompressionRatio: 0)
        #expect(try inflated(PprofEncoder.gzip(data), inflater) == data)
        let error = try #require(inflateError(PprofEncoder.gzip(data + [1]), inflater))
        #expect(error.kind == .decompressedSizeExceeded)
        #expect(error.message == "decompressed size exceeds maximum allowed size of 100000 bytes")
        // Raw input is read through the same limit (§2.1 step 2).
        #expect(inflateError(data + [1], inflater)?.kind == .decompressedSizeExceeded)
        // A lying ISIZE trailer only changes the first buffer guess.
        var lying = PprofEncoder.gzip(data)
        lying.replaceSubrange(lying.count - 4 ..< lying.count, with: [1, 0, 0, 0])
        #expect(inflateError(lying, inflater)?.kind == .gzipCorrupt)
    }

    @Test func defaultBoundsMatchTheDistributorLimit() {
        let inflater = ProfileInflater()
        #expect(inflater.maxDecompressedBytes == 4_194_304)
        #expect(inflater.maxCompressionRatio == 256)
    }

    @Test func bufferIsReusedAcrossCalls() throws {
        let inflater = ProfileInflater(maxCompressionRatio: 0)
        let big = PprofEncoder.gzip(Array(repeating: 3, count: 200_000) + SpecExample.pprof)
        let first = try big.withUnsafeBytes { try inflater.inflate($0).baseAddress }
        let small = PprofEncoder.gzip(SpecExample.pprof)
        let second = try small.withUnsafeBytes { try inflater.inflate($0).baseAddress }
        #expect(first == second)
    }
}
