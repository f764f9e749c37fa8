import Benchmark
import BinaryCoding
import TSDBIndex

/// Inputs of the `index.tsdb` benchmarks, built once on first use (in a benchmark's setup).
enum IndexInputs {
    /// The `index.tsdb` sections of every golden dataset.
    static let goldenBytes: [[UInt8]] = BenchmarkData.golden.map(\.tsdb)

    /// The same sections decoded.
    static let goldenContents: [TSDBIndexContents] = decodeSections(goldenBytes, TSDBIndexReader.read)

    static let syntheticSeriesCount = 5000

    /// A 5k-series HEAD index shaped like the golden ones: every golden series is a template
    /// (its label names, profile types and values), spread over 100 services of 50 instances.
    static let syntheticContents: TSDBIndexContents = {
        let templates = goldenContents.flatMap(\.series).map(\.labels)
        var input: [(labels: [SeriesLabel], minTime: Int64, maxTime: Int64)] = []
        input.reserveCapacity(syntheticSeriesCount)
        let startNs: Int64 = 1_721_060_000_000_000_000
        for i in 0 ..< syntheticSeriesCount {
            let service = i / 50
            var labels = templates[i % templates.count].map { label -> SeriesLabel in
                var label = label
                switch label.name {
                case "service_name", "__service_name__":
                    label.value = ByteString("\(label.value)-\(service)")
                case "instance":
                    label.value = ByteString("10.\(service / 250).\(service % 250).\(i % 50):4040")
                default: break
                }
                return label
            }
            if !labels.contains(where: { $0.name == "instance" }) {
                labels.append(SeriesLabel(name: "instance", value: ByteString("10.0.\(service).\(i % 50):4040")))
            }
            let minTime = startNs + Int64(i % 500) * 1_000_000
            input.append((labels, minTime, minTime + 400_000_000))
        }
        return SeriesLabelOrder.headIndex(input)
    }()

    static let syntheticBytes: [UInt8] = {
        var w = ByteWriter()
        TSDBIndexWriter.write(syntheticContents, into: &w)
        return w.bytes
    }()

    /// One tenant's datasets as `DatasetIndexWriter` takes them: the 11 golden datasets' series.
    static let goldenTenantDatasets: [(position: UInt32, series: [IndexSeries])] =
        goldenContents.enumerated().map { (UInt32($0.offset), $0.element.series) }

    /// The synthetic 5k series as one tenant's 100 datasets of 50 series (one per service), each
    /// in its own index order.
    static let syntheticTenantDatasets: [(position: UInt32, series: [IndexSeries])] = {
        let perDataset = 50
        return stride(from: 0, to: syntheticContents.series.count, by: perDataset).map { start in
            let end = min(start + perDataset, syntheticContents.series.count)
            return (UInt32(start / perDataset), Array(syntheticContents.series[start ..< end]))
        }
    }()
}

func indexBenchmarks(_ configuration: Benchmark.Configuration) {
    writerBenchmark("TSDBIndexWriter.write: golden indexes (all 11)", configuration,
                    inputs: { IndexInputs.goldenContents },
                    capacity: { IndexInputs.goldenBytes.reduce(0) { $0 + $1.count } },
                    write: { TSDBIndexWriter.write($0, into: &$1) })

    writerBenchmark("TSDBIndexWriter.write: synthetic 5k series", configuration,
                    inputs: { [IndexInputs.syntheticContents] },
                    capacity: { IndexInputs.syntheticBytes.count },
                    write: { TSDBIndexWriter.write($0, into: &$1) })

    // The tenant dataset index (segment-object.md §7): one per tenant per flush, over the series
    // of all its datasets.
    writerBenchmark("DatasetIndexWriter.write: one tenant, 11 golden datasets", configuration,
                    inputs: { [IndexInputs.goldenTenantDatasets] },
                    capacity: { IndexInputs.goldenBytes.reduce(0) { $0 + $1.count } },
                    write: { DatasetIndexWriter.write(datasets: $0, into: &$1) })

    writerBenchmark("DatasetIndexWriter.write: one tenant, 100 datasets × 50 series", configuration,
                    inputs: { [IndexInputs.syntheticTenantDatasets] },
                    capacity: { IndexInputs.syntheticBytes.count },
                    write: { DatasetIndexWriter.write(datasets: $0, into: &$1) })

    readerBenchmark("TSDBIndexReader.read: golden indexes (all 11)", configuration,
                    sections: { IndexInputs.goldenBytes },
                    read: { raw throws(DecodeError) in try TSDBIndexReader.read(raw).series.count })

    readerBenchmark("TSDBIndexReader.read: synthetic 5k series", configuration,
                    sections: { [IndexInputs.syntheticBytes] },
                    read: { raw throws(DecodeError) in try TSDBIndexReader.read(raw).series.count })
}
