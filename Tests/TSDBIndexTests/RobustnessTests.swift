import BinaryCoding
import Testing
import TestSupport
import TSDBIndex

/// tsdb-index.md §12.9 and totality: bad input throws a `DecodeError`, never traps or hangs.
@Suite struct RobustnessTests {
    static let vector = HeadVectorTests.section10_2
    // §10.2 layout: symbols 5, series 86 (entries at 0x60 and 0x80), label indices 159 (first at 160),
    // postings 240, label indices table 336, postings table 411, fingerprint offsets 513, TOC 541.

    static func expectError(_ b: [UInt8], _ kind: DecodeError.Kind, _ fragment: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try readIndex(b)
            Issue.record("accepted a corrupt index, expected \(kind)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
            #expect(error.context.first == "index.tsdb", sourceLocation: sourceLocation)
        }
    }

    @Test func theVectorItselfReads() throws {
        _ = try readIndex(Self.vector)
    }

    @Test func wrongMagicVersionAndShortFiles() {
        var b = Self.vector
        b[0] = 0xBB
        Self.expectError(b, .malformed, "magic")
        b = Self.vector
        b[4] = 3
        Self.expectError(b, .unsupported, "version 3")
        Self.expectError(Array(Self.vector.prefix(80)), .truncated, "at least 81")
        Self.expectError([], .truncated, "at least 81")
    }

    @Test(arguments: [
        (0x0d, "symbol table"), (0x63, "series at 96"), (0xa8, "label index at 160"), (0xf8, "postings list at 240"),
        (0x158, "label indices table"), (0x1a3, "postings offset table"), (0x209, "fingerprint offsets"), (0x220, "TOC"),
    ])
    func everyCRCIsChecked(_ at: Int, _ part: String) {
        var b = Self.vector
        b[at] ^= 0x10
        Self.expectError(b, .checksum, part)
    }

    @Test func lengthsRunningPastTheirSectionAreRejected() {
        var b = Self.vector
        setBE32(&b, 5, 0x7FFF_FFFF)
        Self.expectError(b, .truncated, "runs past")
        b = Self.vector
        setBE32(&b, 0x150, be32(b, 0x150) + 4)  // label indices table into the postings table
        Self.expectError(b, .truncated, "runs past")
        b = Self.vector
        b[0x60] = 0x7F  // series body length past the series section
        Self.expectError(b, .limitExceeded, "length 127 exceeds 63")
    }

    @Test func postingsTableKeyCountMustBe2() {
        var b = Self.vector
        #expect(b[411 + 8] == 2)
        b[411 + 8] = 3
        refreshFramedCRC(&b, at: 411)
        Self.expectError(b, .malformed, "key count 3, expected 2")
    }

    @Test func symbolRefOutOfRange() {
        var b = Self.vector
        #expect(b[0x6a] == 0)  // first label's name ref in series ref 6
        b[0x6a] = 7  // 7 symbols: refs 0...6
        setBE32(&b, 0x7c, CRC32C.checksum(Array(b[0x61 ..< 0x7c])))
        Self.expectError(b, .malformed, "symbol ref 7 out of range")
    }

    @Test func wireCountsBeyondTheRemainingBytesAreRejectedBeforeAllocating() {
        var b = Self.vector
        b[0x69] = 0x7F  // 127 labels in a 27-byte body
        setBE32(&b, 0x7c, CRC32C.checksum(Array(b[0x61 ..< 0x7c])))
        Self.expectError(b, .limitExceeded, "exceeds")
        b = Self.vector
        setBE32(&b, 9, 0x00FF_FFFF)  // 16M symbols in a 73-byte table
        refreshFramedCRC(&b, at: 5)
        Self.expectError(b, .limitExceeded, "symbols in")
    }

    @Test func trailingBytesInsideFramedSections() {
        var b = Self.vector
        setBE32(&b, 9, 6)  // symbol count 7 → 6
        refreshFramedCRC(&b, at: 5)
        Self.expectError(b, .malformed, "trailing")
        b = Self.vector
        setBE32(&b, 513 + 4, 0)  // fingerprint offsets count 1 → 0
        refreshFramedCRC(&b, at: 513)
        Self.expectError(b, .malformed, "0 entries in 16 bytes")
    }

    @Test func nonZeroPaddingIsRejected() {
        for at in [0x56, 0x5f, 0x9f] {
            var b = Self.vector
            b[at] = 1
            Self.expectError(b, .malformed, "non-zero padding")
        }
    }

    @Test func derivedPartsMustMatchTheSeries() {
        var b = Self.vector
        setBE32(&b, 240 + 12, 9)  // all-postings second ref 8 → 9
        refreshFramedCRC(&b, at: 240)
        Self.expectError(b, .malformed, "postings differs")
        b = Self.vector
        b[0x21d + 63] = 0xE7  // from 1000 → 999
        refreshTOCCRC(&b)
        Self.expectError(b, .malformed, "TOC bounds")
        b = Self.vector
        setBE32(&b, 0x21d + 12, 100)  // series offset before the symbols end
        refreshTOCCRC(&b)
        Self.expectError(b, .malformed, "trailing")
        b = Self.vector
        setBE32(&b, 0x21d + 4, 6)  // symbols must be at 5
        refreshTOCCRC(&b)
        Self.expectError(b, .malformed, "symbol table at 6")
        b = Self.vector
        setBE32(&b, 0x21d + 20, 0x21e)  // label indices past the TOC
        refreshTOCCRC(&b)
        Self.expectError(b, .malformed, "past the TOC")
    }

    @Test func seriesImplyingHugeTablesAreRejectedWithoutBuildingThem() {
        // 200 series share one 1000-byte name: the honest postings table repeats it 200 times.
        let name = ByteString(String(repeating: "n", count: 1000))
        let series = (0 ..< 200).map { i in
            IndexSeries(labels: [SeriesLabel(name: name, value: ByteString("v\(i)"))], fingerprint: UInt64(i), chunks: [])
        }
        let honest = written(TSDBIndexContents(series: series))
        let t = toc(honest).offsets
        #expect(t[6] - t[5] > 200_000)
        // Replace it by an empty (validly framed) table and move the fingerprint offsets up.
        let emptyTable: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0] + withUnsafeBytes(of: CRC32C.checksum([0, 0, 0, 0]).bigEndian, Array.init)
        var b = Array(honest[..<t[5]]) + emptyTable + Array(honest[t[6]...])
        setBE32(&b, b.count - 76 + 52, UInt32(t[5] + emptyTable.count))
        refreshTOCCRC(&b)
        #expect(b.count < 20_000)
        Self.expectError(b, .malformed, "larger than the whole index")
    }

    @Test func everyTruncationOfEveryGoldenThrows() {
        var inputs = goldens.map(\.tsdb)
        inputs.append(Self.vector)
        var rejected = 0
        for full in inputs {
            full.withUnsafeBytes { raw in
                for n in 0 ..< full.count {
                    do throws(DecodeError) {
                        _ = try TSDBIndexReader.read(UnsafeRawBufferPointer(rebasing: raw[0 ..< n]))
                    } catch {
                        rejected += 1
                    }
                }
            }
        }
        #expect(rejected == inputs.reduce(0) { $0 + $1.count })
    }

    /// Random byte mutations, half of them re-sealed (every CRC recomputed over the original
    /// layout) so they reach the parsers behind the checksums. Whatever is accepted must
    /// re-encode to the same bytes.
    @Test func seededRandomMutationsDecodeOrThrow() {
        var rng = SplitMix64(seed: 0x5EED_7_5DB)
        var inputs = goldens.map(\.tsdb)
        inputs.append(Self.vector)
        let seals = inputs.map(crcRegions)
        var accepted = 0
        var rejected = 0
        for iteration in 0 ..< 4000 {
            let which = iteration % inputs.count
            var b = inputs[which]
            for _ in 0 ... Int.random(in: 0 ..< 3, using: &rng) {
                let at = Int.random(in: 0 ..< b.count, using: &rng)
                if Bool.random(using: &rng) {
                    b[at] ^= UInt8(1) << UInt8.random(in: 0 ..< 8, using: &rng)
                } else {
                    b[at] = UInt8.random(in: 0 ... 255, using: &rng)
                }
            }
            if Bool.random(using: &rng) { reseal(&b, seals[which]) }
            if iteration % 16 == 0 { b.removeLast(Int.random(in: 0 ..< b.count, using: &rng)) }
            do throws(DecodeError) {
                let contents = try readIndex(b)
                #expect(written(contents) == b, "accepted input \(iteration) does not re-encode")
                accepted += 1
            } catch {
                rejected += 1
            }
        }
        #expect(accepted + rejected == 4000)
        #expect(rejected > 3000)
    }

    /// (content start, content length, CRC position) of every checksummed part of a valid index.
    func crcRegions(_ b: [UInt8]) -> [(Int, Int, Int)] {
        let t = toc(b).offsets
        var regions: [(Int, Int, Int)] = []
        func framed(_ at: Int) -> Int {
            let n = Int(be32(b, at))
            regions.append((at + 4, n, at + 4 + n))
            return at + 8 + n
        }
        _ = framed(5)
        var at = t[1]
        while at < t[2] {
            at = (at + 15) / 16 * 16
            var n = 0
            var shift = 0
            while b[at] & 0x80 != 0 { n |= Int(b[at] & 0x7F) << shift; shift += 7; at += 1 }
            n |= Int(b[at]) << shift
            at += 1
            regions.append((at, n, at + n))
            at += n + 4
        }
        at = t[2]
        while at < t[3] {  // label indices and postings are contiguous up to the label indices table
            at = (at + 3) / 4 * 4
            at = framed(at)
        }
        _ = framed(t[3])
        _ = framed(t[5])
        _ = framed(t[6])
        regions.append((b.count - 76, 72, b.count - 4))
        return regions
    }

    func reseal(_ b: inout [UInt8], _ regions: [(Int, Int, Int)]) {
        for (start, length, crcAt) in regions where crcAt + 4 <= b.count {
            setBE32(&b, crcAt, CRC32C.checksum(Array(b[start ..< start + length])))
        }
    }
}
