import BinaryCoding
import Testing
import TSDBIndex

/// The writers read series as `IndexSeriesColumns`; the symbol table interns their bytes.
@Suite struct IndexSeriesColumnsTests {
    /// 20 000 series of mostly distinct values (the symbol table grows many times), values that
    /// tie on their first 8 bytes, and values that differ only by trailing zero bytes (the sort
    /// key pads with zeros).
    static let contents: TSDBIndexContents = {
        let zeros: [ByteString] = [ByteString([0x78]), ByteString([0x78, 0]), ByteString([0x78, 0, 0]), ByteString([0x77, 0xFF])]
        let input = (0 ..< 20_000).map { i -> (labels: [SeriesLabel], minTime: Int64, maxTime: Int64) in
            let labels = [label("__profile_type__", "cpu:\(i % 7)"), label("service_name", "svc"),
                          label("request_id", "a-long-shared-prefix-\(i)"), label("z", "\(i % 13)")]
                + [SeriesLabel(name: "zero", value: zeros[i % zeros.count])]
            return (SeriesLabelOrder.enforce(labels), Int64(i), Int64(i) + 5)
        }
        return SeriesLabelOrder.headIndex(input)
    }()

    @Test func columnsHoldTheSameSeries() {
        #expect(IndexSeriesColumns(Self.contents.series).series == Self.contents.series)
    }

    @Test func manyDistinctSymbolsReadBackAsWritten() throws {
        let bytes = written(Self.contents)
        let back = try readIndex(bytes)
        #expect(back.series == Self.contents.series)
        // Pinned, so that a change of the index bytes is deliberate (the columns writer's first
        // objects were byte-identical to the per-series writer's before it).
        #expect(XXH64.hash(bytes) == 0x0df7_e0d5_14c3_fe06)
    }
}
