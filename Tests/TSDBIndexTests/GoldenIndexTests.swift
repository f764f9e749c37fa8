import BinaryCoding
import Testing
import TestSupport
import TSDBIndex

/// tsdb-index.md §9 and §12.2–3: every golden `index.tsdb` reads, verifies and re-encodes exactly.
@Suite struct GoldenIndexTests {
    struct Expected {
        var id: String, dataset: Int, size: Int, symbols: Int, series: Int, postings: Int, crcs: Int, tocCRC: UInt32
    }

    // tsdb-index.md §9 table.
    static let table: [Expected] = [
        .init(id: "01J2VJQPYDC160REPAD2VN88XN", dataset: 0, size: 2487, symbols: 31, series: 1, postings: 20, crcs: 45, tocCRC: 0xdbf3_2a70),
        .init(id: "01J2VJQRGBK8YFWVV8K1MPRRWM", dataset: 0, size: 2616, symbols: 32, series: 2, postings: 21, crcs: 45, tocCRC: 0x7992_c094),
        .init(id: "01J2VJQRTMSCY4VDYBP5N4N5JK", dataset: 0, size: 2195, symbols: 28, series: 1, postings: 18, crcs: 41, tocCRC: 0x00b4_352b),
        .init(id: "01J2VJQTJ3PGF7KB39ARR1BX3Y", dataset: 0, size: 3513, symbols: 40, series: 4, postings: 27, crcs: 55, tocCRC: 0x523c_ac71),
        .init(id: "01J2VJQV544TF571FDSK2H692P", dataset: 0, size: 2579, symbols: 32, series: 2, postings: 21, crcs: 45, tocCRC: 0x92c8_a242),
        .init(id: "01J2VJQX8DYHSEBK7BAQSCJBMG", dataset: 0, size: 2863, symbols: 35, series: 2, postings: 23, crcs: 49, tocCRC: 0xbd2e_e20f),
        .init(id: "01J2VJQYQVZTPZMMJKE7F2XC47", dataset: 0, size: 3514, symbols: 40, series: 4, postings: 27, crcs: 55, tocCRC: 0xef23_8c6d),
        .init(id: "01J2VJQZPARDJQ779S1JMV0XQA", dataset: 0, size: 2487, symbols: 31, series: 1, postings: 20, crcs: 45, tocCRC: 0xe949_63a0),
        .init(id: "01J2VJR0R3NQS23SDADNA6XHCM", dataset: 0, size: 2605, symbols: 33, series: 2, postings: 21, crcs: 45, tocCRC: 0xcbff_05d2),
        .init(id: "01J2VJR0R3NQS23SDADNA6XHCM", dataset: 1, size: 4234, symbols: 45, series: 5, postings: 36, crcs: 65, tocCRC: 0x1654_03ce),
        .init(id: "01J2VJR31PT3X4NDJC4Q2BHWQ1", dataset: 0, size: 3198, symbols: 37, series: 4, postings: 25, crcs: 51, tocCRC: 0x9964_c020),
    ]

    @Test func theElevenGoldensAreTheSpecsTable() {
        #expect(goldens.count == 11)
        #expect(goldens.map { "\($0.segmentID)#\($0.datasetIndex)" } == Self.table.map { "\($0.id)#\($0.dataset)" })
    }

    @Test(arguments: table)
    func goldenReadsWithTheCountsOfTheSpec(_ e: Expected) throws {
        let ds = golden(e.id, e.dataset)
        #expect(ds.tsdb.count == e.size)
        let contents = try readIndex(ds.tsdb)
        #expect(contents.series.count == e.series)

        var strings = Set<ByteString>()
        var names = Set<ByteString>()
        var pairs = Set<SeriesLabel>()
        for s in contents.series {
            for l in s.labels { strings.insert(l.name); strings.insert(l.value); names.insert(l.name); pairs.insert(l) }
        }
        #expect(strings.count == e.symbols)
        #expect(pairs.count + 1 == e.postings)
        // Symbols, series, label indices, postings, three tables, TOC.
        #expect(1 + contents.series.count + names.count + e.postings + 3 + 1 == e.crcs)
        #expect(toc(ds.tsdb).crc == e.tocCRC)

        for (i, s) in contents.series.enumerated() {
            #expect(s.fingerprint == SeriesFingerprint.of(s.labels), "\(ds.name) series \(i)")
            #expect(s.chunks == [ChunkMeta(minTime: s.chunks[0].minTime, maxTime: s.chunks[0].maxTime, seriesIndex: UInt32(i))])
            // The goldens predate enforced order: labels are plain lexicographic.
            #expect(s.labels.map(\.name) == s.labels.map(\.name).sorted())
            if i > 0 { #expect(SeriesLabelOrder.compareLabelPairs(contents.series[i - 1].labels, s.labels) < 0) }
        }
        // Dataset times in BlockMeta are the TOC bounds (ns) truncated to ms.
        #expect(contents.from / 1_000_000 == ds.minTimeMs)
        #expect(contents.through / 1_000_000 == ds.maxTimeMs)
        #expect(contents.from == TSDBTimeBounds.of(contents.series).from)
        let service = contents.series.flatMap(\.labels).filter { $0.name == "service_name" }.map(\.value)
        #expect(Set(service) == [ByteString(ds.service)])
    }

    @Test(arguments: table)
    func goldenReencodesByteForByte(_ e: Expected) throws {
        let ds = golden(e.id, e.dataset)
        let contents = try readIndex(ds.tsdb)
        #expect(written(contents) == ds.tsdb)
        // Offsets are relative to the section start, wherever it lies in the object.
        var w = ByteWriter()
        w.append(contentsOf: [UInt8](repeating: 0xAB, count: ds.tableOfContents[1]))
        TSDBIndexWriter.write(contents, into: &w)
        #expect(Array(w.bytes[ds.tableOfContents[1]...]) == ds.tsdb)
    }

    @Test func annotatedGoldenMatchesTheHexDumpOfSection10_1() throws {
        let b = golden("01J2VJQRTMSCY4VDYBP5N4N5JK").tsdb
        let t = toc(b)
        #expect(t.offsets == [5, 475, 545, 1176, 888, 1479, 2091])
        #expect(t.from == 1_721_060_025_159_509_218 && t.through == t.from)
        let s = try readIndex(b).series[0]
        #expect(s.fingerprint == 0xb27f_a46a_15ac_c460)
        #expect(s.labels.count == 17)
        #expect(s.labels[0] == label("__name__", "goroutine"))
        #expect(Array(b[0x1e0 ... 0x1e0]) == [0x3c])
        #expect(Array(b[0x20d ..< 0x216]) == [0xc4, 0x93, 0x8f, 0xcc, 0xad, 0xbe, 0xb7, 0xe2, 0x2f])
    }
}
