import BinaryCoding
import Testing
import TestSupport
import TSDBIndex

/// HEAD memdb behaviour (tsdb-index.md §7, §10.2, §12.4–5) and fingerprints (§6).
@Suite struct HeadVectorTests {
    // §10.2, 617 bytes produced by the upstream writer.
    static let section10_2 = bytes(hex: """
        baaad700020000004900000007105f5f70726f66696c655f747970655f5f105f5f736572766963655f6e616d655f5f01
        610b703a743a753a70743a707503706f640c736572766963655f6e616d65037376630d6d5f5900000000000000000000
        1bbd43f29b8aa70d2804000301060402050601b817000000000000004c4e8b781a08737b89e052e65d03000301060506
        01d00fe807000100000000fe596e88000000000c000000010000000100000003f41fff4d0000000c0000000100000001
        00000006c1eeeb510000000c00000001000000010000000206747c4e0000000c000000010000000100000006c1eeeb51
        0000000c000000020000000600000008dc4f561b0000000c000000020000000600000008dc4f561b0000000c00000002
        0000000600000008dc4f561b00000008000000010000000692983ace0000000c000000020000000600000008dc4f561b
        000000430000000401105f5f70726f66696c655f747970655f5fa00101105f5f736572766963655f6e616d655f5fb401
        0103706f64c801010c736572766963655f6e616d65dc013efbe0ce0000005e00000005020000f00102105f5f70726f66
        696c655f747970655f5f0b703a743a753a70743a7075840202105f5f736572766963655f6e616d655f5f037376639802
        0203706f640161ac02020c736572766963655f6e616d6503737663bc02fa2d7498000000140000000100000000000000
        06bd43f29b8aa70d280a44090b00000000000000050000000000000056000000000000009f0000000000000150000000
        00000000f0000000000000019b000000000000020100000000000003e800000000000007d0cd42ec4c
        """)

    /// Groups profiles into series by their enforced-order fingerprint, as `Head.Ingest` does.
    static func ingest(_ profiles: [(labels: [SeriesLabel], timeNanos: Int64)]) -> TSDBIndexContents {
        var byFingerprint: [UInt64: (labels: [SeriesLabel], minTime: Int64, maxTime: Int64)] = [:]
        for p in profiles {
            let fp = SeriesFingerprint.of(SeriesLabelOrder.enforce(p.labels))
            if let s = byFingerprint[fp] {
                byFingerprint[fp] = (s.labels, min(s.minTime, p.timeNanos), max(s.maxTime, p.timeNanos))
            } else {
                byFingerprint[fp] = (p.labels, p.timeNanos, p.timeNanos)
            }
        }
        return SeriesLabelOrder.headIndex(Array(byFingerprint.values))
    }

    static let seriesA = [label("service_name", "svc"), label("__service_name__", "svc"), label("__profile_type__", "p:t:u:pt:pu")]
    static let seriesB = seriesA + [label("pod", "a")]

    static func section10_2Contents() -> TSDBIndexContents {
        ingest([(seriesA, 1000), (seriesA, 2000), (seriesB, 1500)])
    }

    @Test func threeProfilesIngestToTheCompleteVectorOfSection10_2() throws {
        #expect(Self.section10_2.count == 617)
        let contents = Self.section10_2Contents()
        #expect(contents.series.map(\.fingerprint) == [0xbd43_f29b_8aa7_0d28, 0x0873_7b89_e052_e65d])
        #expect(contents.series[0].labels.map(\.name) == ["__profile_type__", "__service_name__", "pod", "service_name"])
        #expect(contents.series[1].chunks == [ChunkMeta(minTime: 1000, maxTime: 2000, seriesIndex: 1)])
        #expect(contents.from == 1000 && contents.through == 2000)
        let out = written(contents)
        #expect(out == Self.section10_2)
        #expect(SHA256.hex(out) == "985e98ea4b04e0619522625e02b30f96f7409816604ef2c634cd744473e3284a")
        #expect(toc(out).offsets == [5, 86, 159, 336, 240, 411, 513])
        let back = try readIndex(Self.section10_2)
        #expect(back.series == contents.series && back.from == 1000 && back.through == 2000)
    }

    @Test func section10_2AsADatasetIndexNumbered3() throws {
        let series = Self.section10_2Contents().series
        var w = ByteWriter()
        DatasetIndexWriter.write(datasets: [(position: 3, series: series)], into: &w)
        let out = w.bytes
        #expect(SHA256.hex(out) == "18e1d3ea41de0f81c6b494ee5530dd8c50bafe327a622209fe0a13c99c054c87")
        let t = toc(out)
        #expect(t.offsets[2] == 157 && t.from == 0 && t.through == 0 && t.crc == 0x93c5_dd06)
        let back = try readIndex(out)
        #expect(back.series.map(\.chunks) == [[ChunkMeta(minTime: 0, maxTime: 0, seriesIndex: 3)], [ChunkMeta(minTime: 0, maxTime: 0, seriesIndex: 3)]])
        #expect(back.series.map(\.labels) == series.map(\.labels))
        #expect(Array(out[0x60 ... 0x60]) == [26])
    }

    @Test func enforcedOrderPutsProfileTypeAndServiceNameFirstThenNameBytes() {
        let labels = [label("service_name", "s"), label("__unit__", "u"), label("Zone", "z"), label("__name__", "n"),
                      label("__service_name__", "s"), label("9lives", "x"), label("__profile_type__", "t")]
        #expect(SeriesLabelOrder.enforce(labels).map(\.name) ==
            ["__profile_type__", "__service_name__", "9lives", "Zone", "__name__", "__unit__", "service_name"])
        #expect(SeriesLabelOrder.enforce(labels.reversed()) == SeriesLabelOrder.enforce(labels))
    }

    @Test func compareLabelPairsIsPairwiseWithPrefixFirst() {
        let a = [label("a", "1"), label("b", "2")]
        #expect(SeriesLabelOrder.compareLabelPairs(a, a) == 0)
        #expect(SeriesLabelOrder.compareLabelPairs(Array(a.prefix(1)), a) < 0)
        #expect(SeriesLabelOrder.compareLabelPairs([label("a", "2")], a) > 0)
        #expect(SeriesLabelOrder.compareLabelPairs([label("B", "9")], a) < 0)  // bytes, not case-folded
    }

    // §6
    @Test func fingerprintVectors() {
        #expect(XXH64.hash([UInt8]()) == 0xef46_db37_51d8_e999)
        #expect(XXH64.hash(Array("a".utf8)) == 0xd24e_c4f1_a98c_6e5b)
        #expect(XXH64.hash(Array("abc".utf8)) == 0x44bc_2cf5_ad77_0999)
        #expect(SeriesFingerprint.of([label("a", "b")]) == 0x6088_91b6_a4fd_3588)
        #expect(SeriesFingerprint.of([]) == 0xef46_db37_51d8_e999)
        // Streams the same bytes past 1 KiB.
        let long = [label(String(repeating: "n", count: 700), String(repeating: "v", count: 900)), label("a", "b")]
        var flat: [UInt8] = []
        for l in long { flat += l.name.bytes + [0xFF] + l.value.bytes + [0xFF] }
        #expect(SeriesFingerprint.of(long) == XXH64.hash(flat))
        // Raw bytes: invalid UTF-8 is hashed as is.
        #expect(SeriesFingerprint.of([SeriesLabel(name: ByteString([0xC3]), value: ByteString([0xFF, 0x00]))])
            == XXH64.hash([0xC3, 0xFF, 0xFF, 0x00, 0xFF]))
    }

    @Test func goldenSeriesFingerprintChangesUnderEnforcedOrder() throws {
        let s = try readIndex(golden("01J2VJR31PT3X4NDJC4Q2BHWQ1").tsdb).series[0]
        #expect(s.fingerprint == 0x03a0_fc46_cd83_4aae)
        #expect(SeriesFingerprint.of(SeriesLabelOrder.enforce(s.labels)) == 0xb058_e90d_3f0e_3f65)
    }

    // §12.5
    @Test func headReingestOfAGolden() throws {
        let stored = try readIndex(golden("01J2VJQTJ3PGF7KB39ARR1BX3Y").tsdb)
        let contents = SeriesLabelOrder.headIndex(stored.series.map { ($0.labels, $0.chunks[0].minTime, $0.chunks[0].maxTime) })
        let out = written(contents)
        #expect(out.count == 3513)
        #expect(toc(out).crc == 0x523c_ac71)
        #expect(SHA256.hex(out) == "2e83898d927a5685775b7ef798b72dcb7e3991719c3c9f852ef49916831e8303")
        #expect(try readIndex(out).series == contents.series)
    }

    @Test func sha256SelfCheck() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
