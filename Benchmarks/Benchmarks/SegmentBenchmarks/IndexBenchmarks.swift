import Benchmark
import BinaryCoding
import TSDBIndex

/// Inputs of the `index.tsdb` benchmarks, built once on first use (in a benchmark's setup).
enum IndexInputs {
    /// The `index.tsdb` sections of every golden dataset.
    static let goldenBytes: [[UInt8]] = BenchmarkData.goldenDatasets().map(\.tsdb)

    /// The same sections decoded.
    static let goldenContents: [TSDBIndexContents] = goldenBytes.map { bytes in
        try! bytes.withUnsafeBytes { raw throws(DecodeError) in try TSDBIndexReader.read(raw) }
    }

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
}

func indexBenchmarks(_ configuration: Benchmark.Configuration) {
    let goldenTotal = { IndexInputs.goldenBytes.reduce(0) { $0 + $1.count } }

    Benchmark("TSDBIndexWriter.write: golden indexes (all 11)", configuration: configuration,
              closure: { benchmark in
                  var w = ByteWriter(capacity: goldenTotal())
                  benchmark.startMeasurement()
                  for _ in benchmark.scaledIterations {
                      for contents in IndexInputs.goldenContents {
                          w.bytes.removeAll(keepingCapacity: true)
                          TSDBIndexWriter.write(contents, into: &w)
                      }
                  }
                  benchmark.stopMeasurement()
                  blackHole(w.count)
              },
              setup: { _ = IndexInputs.goldenContents })

    Benchmark("TSDBIndexWriter.write: synthetic 5k series", configuration: configuration,
              closure: { benchmark in
                  var w = ByteWriter(capacity: IndexInputs.syntheticBytes.count)
                  benchmark.startMeasurement()
                  for _ in benchmark.scaledIterations {
                      w.bytes.removeAll(keepingCapacity: true)
                      TSDBIndexWriter.write(IndexInputs.syntheticContents, into: &w)
                  }
                  benchmark.stopMeasurement()
                  blackHole(w.count)
              },
              setup: { _ = IndexInputs.syntheticBytes })

    Benchmark("TSDBIndexReader.read: golden indexes (all 11)", configuration: configuration,
              closure: { benchmark in
                  for _ in benchmark.scaledIterations {
                      for bytes in IndexInputs.goldenBytes {
                          bytes.withUnsafeBytes { raw in blackHole(try! TSDBIndexReader.read(raw).series.count) }
                      }
                  }
              },
              setup: { _ = IndexInputs.goldenBytes })

    Benchmark("TSDBIndexReader.read: synthetic 5k series", configuration: configuration,
              closure: { benchmark in
                  for _ in benchmark.scaledIterations {
                      IndexInputs.syntheticBytes.withUnsafeBytes { raw in
                          blackHole(try! TSDBIndexReader.read(raw).series.count)
                      }
                  }
              },
              setup: { _ = IndexInputs.syntheticBytes })
}
