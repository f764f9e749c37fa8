import BinaryCoding
import Testing
import TestSupport
import TSDBIndex

/// tsdb-index.md §12.8, checked on the written bytes by a walker independent of the reader.
@Suite struct WriterInvariantTests {
    /// 2,500 HEAD-style series over a few label names, some values shared.
    static func manySeries() -> TSDBIndexContents {
        var rng = SplitMix64(seed: 42)
        var input: [(labels: [SeriesLabel], minTime: Int64, maxTime: Int64)] = []
        var seen = Set<[SeriesLabel]>()
        while input.count < 2500 {
            var labels = [label("__profile_type__", "cpu:\(UInt8.random(in: 0 ..< 3, using: &rng))"),
                          label("service_name", "svc"), label("pod", "pod-\(UInt16.random(in: 0 ..< 4000, using: &rng))")]
            if Bool.random(using: &rng) { labels.append(label("Region", "r\(UInt8.random(in: 0 ..< 5, using: &rng))")) }
            labels = SeriesLabelOrder.enforce(labels)
            guard seen.insert(labels).inserted else { continue }
            let t = Int64.random(in: 1_000_000 ..< 2_000_000, using: &rng)
            input.append((labels, t, t + Int64.random(in: 0 ..< 1000, using: &rng)))
        }
        return SeriesLabelOrder.headIndex(input)
    }

    static func uvarint(_ b: [UInt8], _ at: inout Int) -> Int {
        var v = 0
        var shift = 0
        while b[at] & 0x80 != 0 { v |= Int(b[at] & 0x7F) << shift; shift += 7; at += 1 }
        v |= Int(b[at]) << shift
        at += 1
        return v
    }

    static func ustr(_ b: [UInt8], _ at: inout Int) -> [UInt8] {
        let n = uvarint(b, &at)
        defer { at += n }
        return Array(b[at ..< at + n])
    }

    @Test func layoutInvariantsOfALargeIndex() throws {
        let contents = Self.manySeries()
        var w = ByteWriter()
        w.append(contentsOf: [1, 2, 3] as [UInt8])  // an odd start: alignment is index-relative
        TSDBIndexWriter.write(contents, into: &w)
        let b = Array(w.bytes.dropFirst(3))
        let t = toc(b).offsets
        #expect(t[0] == 5)
        // Series start right after the symbol CRC (unpadded); entries are 16-aligned.
        #expect(t[1] == 5 + 8 + Int(be32(b, 5)))
        var at = t[1]
        var seriesRefs: [UInt32] = []
        while at < t[2] {
            while at % 16 != 0 { #expect(b[at] == 0); at += 1 }
            seriesRefs.append(UInt32(at / 16))
            let n = Self.uvarint(b, &at)
            at += n + 4
        }
        #expect(at == t[2])  // label indices start unpadded after the last series CRC
        #expect(seriesRefs.count == 2500)

        // One label index per name, in byte order, 4-aligned.
        at = t[3] + 8  // past the table's length and count
        let names = (0 ..< Int(be32(b, t[3] + 4))).map { _ -> ([UInt8], Int) in
            #expect(Self.uvarint(b, &at) == 1)
            let name = Self.ustr(b, &at)
            return (name, Self.uvarint(b, &at))
        }
        #expect(names.map(\.0) == ["Region", "__profile_type__", "pod", "service_name"].map { Array($0.utf8) })
        #expect(names.allSatisfy { $0.1 % 4 == 0 && be32(b, $0.1 + 4) == 1 })

        // Postings: all-postings first with every ref in file order, then strictly increasing keys.
        at = t[5] + 4
        let count = Int(be32(b, at))
        at += 4
        var keys: [([UInt8], [UInt8], Int)] = []
        for _ in 0 ..< count {
            #expect(Self.uvarint(b, &at) == 2)
            let name = Self.ustr(b, &at)
            let value = Self.ustr(b, &at)
            keys.append((name, value, Self.uvarint(b, &at)))
        }
        #expect(keys[0].0.isEmpty && keys[0].1.isEmpty && keys[0].2 == t[4])
        #expect(keys.allSatisfy { $0.2 % 4 == 0 })
        for i in 2 ..< keys.count {
            let (a, c) = (keys[i - 1], keys[i])
            #expect(a.0.lexicographicallyPrecedes(c.0) || (a.0 == c.0 && a.1.lexicographicallyPrecedes(c.1)))
        }
        let all = keys[0].2
        #expect(Int(be32(b, all + 4)) == 2500)
        #expect((0 ..< 2500).map { be32(b, all + 8 + 4 * $0) } == seriesRefs)

        // Fingerprint offsets at call ordinals 0, 1024, 2048.
        at = t[6]
        #expect(be32(b, at) == 4 + 3 * 16 && be32(b, at + 4) == 3)
        for (k, ordinal) in [0, 1024, 2048].enumerated() {
            #expect(be64(b, at + 8 + 16 * k) == UInt64(seriesRefs[ordinal]))
            #expect(be64(b, at + 16 + 16 * k) == contents.series[ordinal].fingerprint)
        }

        // One chunk per series, KB = Checksum = 0, SeriesIndex = ordinal; reads back unchanged.
        for (i, s) in contents.series.enumerated() {
            #expect(s.chunks.count == 1 && s.chunks[0].kb == 0 && s.chunks[0].checksum == 0 && s.chunks[0].seriesIndex == UInt32(i))
        }
        let back = try readIndex(b)
        #expect(back.series == contents.series && back.from == contents.from && back.through == contents.through)
    }

    @Test func timeBoundsTreatZeroAsUnset() {
        func bounds(_ chunks: [(Int64, Int64)]) -> (Int64, Int64) {
            let b = TSDBTimeBounds.of(chunks.map { IndexSeries(labels: [], fingerprint: 0, chunks: [ChunkMeta(minTime: $0.0, maxTime: $0.1, seriesIndex: 0)]) })
            return (b.from, b.through)
        }
        #expect(bounds([]) == (0, 0))
        #expect(bounds([(0, 0), (0, 0)]) == (0, 0))
        #expect(bounds([(0, 0), (5, 9), (3, 4)]) == (3, 9))
        #expect(bounds([(-5, -1)]) == (-5, -1))
        #expect(bounds([(7, 8), (0, 0)]) == (0, 8))
    }

    @Test func chunkMetasRoundTripWithOverlapsAndExtremes() throws {
        let chunks = [
            ChunkMeta(minTime: 100, maxTime: 200, kb: 7, seriesIndex: 1, checksum: 0xDEAD_BEEF),
            ChunkMeta(minTime: 150, maxTime: 160, kb: 0, seriesIndex: UInt32.max, checksum: 1),  // overlaps: negative delta
            ChunkMeta(minTime: Int64.min, maxTime: Int64.max, kb: UInt32.max, seriesIndex: 0, checksum: 0),
        ]
        let series = [IndexSeries(labels: [label("a", "b")], fingerprint: 1, chunks: chunks),
                      IndexSeries(labels: [], fingerprint: 2, chunks: [])]
        let contents = TSDBIndexContents(series: series)
        let back = try readIndex(written(contents))
        #expect(back.series == series && back.from == Int64.min && back.through == Int64.max)
    }

    @Test func anEmptyIndexIsValid() throws {
        let b = written(TSDBIndexContents(series: []))
        let back = try readIndex(b)
        #expect(back.series.isEmpty && back.from == 0 && back.through == 0)
    }

    @Test func labelsAreRawBytes() throws {
        // NFC "é" and NFD "e\u{301}" are distinct symbols; invalid UTF-8 survives.
        let series = [
            IndexSeries(labels: [SeriesLabel(name: "n", value: ByteString([0xC3, 0xA9]))], fingerprint: 1, chunks: []),
            IndexSeries(labels: [SeriesLabel(name: "n", value: ByteString([0x65, 0xCC, 0x81]))], fingerprint: 2, chunks: []),
            IndexSeries(labels: [SeriesLabel(name: "n", value: ByteString([0xFF, 0xFE]))], fingerprint: 3, chunks: []),
        ]
        let back = try readIndex(written(TSDBIndexContents(series: series)))
        #expect(back.series == series)
    }

    // §12.1
    @Test func primitiveEncodings() {
        var w = ByteWriter()
        w.appendVarint(1_721_060_025_159_509_218)
        #expect(w.bytes == [0xc4, 0x93, 0x8f, 0xcc, 0xad, 0xbe, 0xb7, 0xe2, 0x2f])
        w = ByteWriter(); w.appendVarint(-1); #expect(w.bytes == [0x01])
        w = ByteWriter(); w.appendVarint(-103); #expect(w.bytes == [0xcd, 0x01])
        w = ByteWriter(); w.appendUvarint(300); #expect(w.bytes == [0xac, 0x02])
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
}
