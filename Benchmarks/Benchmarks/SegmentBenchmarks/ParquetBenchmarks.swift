import Benchmark
import BinaryCoding
import ProfilesParquet

/// Inputs of the `profiles.parquet` benchmarks, built once on first use.
enum ParquetInputs {
    static let goldenBytes: [[UInt8]] = BenchmarkData.golden.map(\.profiles)

    static let goldenTables: [ProfileColumns] = decodeSections(goldenBytes) { raw throws(DecodeError) in
        try ProfilesParquetReader.read(raw).columns
    }

    static let syntheticRowCount = 10_000
    static let syntheticSeriesCount = 5000

    /// A 10k-row, ~1M-sample table shaped like the golden ones: each row's scalars (period,
    /// duration, partition, default sample type, frames) come from a golden row in turn; 2 rows
    /// per series 10 s apart; 20–180 samples a row (mean 100) with sorted stack IDs drawn from
    /// 200k stacks and CPU-like values; one row in ten carries span IDs.
    static let syntheticColumns: ProfileColumns = {
        let templates = goldenTables
        var t = ProfileColumns()
        var rng = SplitMix64(state: 0x5E6_3E47)
        t.reserve(rows: syntheticRowCount, samples: syntheticRowCount * 100)
        let startNs: Int64 = 1_721_060_000_000_000_000
        var templateTable = 0
        var templateRow = 0
        for r in 0 ..< syntheticRowCount {
            while templateRow >= templates[templateTable].rowCount {
                templateTable = (templateTable + 1) % templates.count
                templateRow = 0
            }
            let g = templates[templateTable]
            let gr = templateRow
            templateRow += 1

            t.ids.append(UInt128(rng.next()) << 64 | UInt128(rng.next()))
            t.seriesIndex.append(UInt32(r / (syntheticRowCount / syntheticSeriesCount)))
            t.stacktracePartition.append(g.stacktracePartition[gr])
            t.timeNanos.append(startNs + Int64(r % 2) * 10_000_000_000 + Int64(r % 97) * 1_000_000)
            t.durationNanos.append(g.durationNanos[gr] == 0 ? 10_000_000_000 : g.durationNanos[gr])
            t.period.append(g.period[gr])
            t.dropFrames.append(g.dropFrames[gr])
            t.keepFrames.append(g.keepFrames[gr])
            t.defaultSampleType.append(g.defaultSampleType[gr])

            let hasSpans = r % 10 == 0
            t.rowHasSpanIDs.append(hasSpans)
            let samples = 20 + rng.next(below: 161)
            var stack = UInt64(rng.next(below: 1000))
            var total: Int64 = 0
            for _ in 0 ..< samples {
                stack += 1 + UInt64(rng.next(below: 2000))
                let value = Int64(1 + rng.next(below: 20)) * 10_000_000
                total += value
                t.sampleStacktraceIDs.append(stack)
                t.sampleValues.append(value)
                t.sampleSpanIDs.append(hasSpans ? rng.next() : 0)
                t.sampleTraceIDs.append(0)
            }
            t.sampleOffsets.append(t.sampleStacktraceIDs.count)
            t.totalValue.append(total)
            t.commentOffsets.append(t.comments.count)
            t.annotationOffsets.append(t.annotationKeys.count)
        }
        precondition(t.isConsistent && t.isOrdered)
        return t
    }()

    static let syntheticBytes: [UInt8] = {
        var w = ByteWriter()
        ProfilesParquetWriter.write(syntheticColumns, into: &w)
        return w.bytes
    }()
}

func parquetBenchmarks(_ configuration: Benchmark.Configuration) {
    let rows = "\(ParquetInputs.syntheticRowCount / 1000)k rows, ~1M samples"
    writerBenchmark("ProfilesParquetWriter.write: synthetic \(rows)", configuration,
                    inputs: { [ParquetInputs.syntheticColumns] },
                    capacity: { ParquetInputs.syntheticBytes.count },
                    write: { ProfilesParquetWriter.write($0, into: &$1) })

    readerBenchmark("ProfilesParquetReader.read: synthetic \(rows)", configuration,
                    sections: { [ParquetInputs.syntheticBytes] },
                    read: { raw throws(DecodeError) in try ProfilesParquetReader.read(raw).rowCount })

    readerBenchmark("ProfilesParquetReader.read: golden sections (all 11)", configuration,
                    sections: { ParquetInputs.goldenBytes },
                    read: { raw throws(DecodeError) in try ProfilesParquetReader.read(raw).rowCount })
}
