import Benchmark
import BinaryCoding
import ProfilesParquet
import SegmentObject
import SymbolDB
import TSDBIndex

/// A dataset handed to the assembler as decoded contents, so assembling runs the three real
/// writers (parquet, index, symdb) as a flush does.
struct DecodedDataset: SegmentDatasetSource {
    var tenant: ByteString
    var service: ByteString
    var minTimeNanos: Int64
    var maxTimeNanos: Int64
    var profileTypes: [ByteString]
    var hasUnsymbolizedProfiles = false
    let indexSeriesColumns: IndexSeriesColumns
    var profiles: ProfileColumns
    var index: TSDBIndexContents
    var symbols: SymbolDBContents

    func writeProfiles(into w: inout ByteWriter) { ProfilesParquetWriter.write(profiles, into: &w) }
    func writeIndex(into w: inout ByteWriter) { TSDBIndexWriter.write(index, into: &w) }
    func writeSymbols(into w: inout ByteWriter) { SymbolDBWriter.write(symbols, into: &w) }
}

/// Inputs of the symdb and whole-object benchmarks, built once on first use.
enum ObjectInputs {
    static let goldenSymbolBytes: [[UInt8]] = BenchmarkData.golden.map(\.symbols)

    static let goldenSymbols: [SymbolDBContents] = decodeSections(goldenSymbolBytes, SymbolDBReader.read)

    static let tenantCount = 20

    /// A busy segment: 20 tenants, each with the 11 golden datasets decoded (220 datasets).
    /// Services get the golden index as a suffix, in the dataset and in its series' labels,
    /// so every (tenant, service) is unique and the object still verifies.
    static let datasets: [DecodedDataset] = {
        var result: [DecodedDataset] = []
        for t in 0 ..< tenantCount {
            for k in IndexInputs.goldenContents.indices {
                var index = IndexInputs.goldenContents[k]
                var service: ByteString = ""
                for s in index.series.indices {
                    for l in index.series[s].labels.indices where index.series[s].labels[l].name == "service_name"
                        || index.series[s].labels[l].name == "__service_name__" {
                        index.series[s].labels[l].value.bytes += Array("-\(k)".utf8)
                        service = index.series[s].labels[l].value
                    }
                    index.series[s].fingerprint = SeriesFingerprint.of(index.series[s].labels)
                }
                let profileTypes = Set(index.series.flatMap { s in
                    s.labels.filter { $0.name == SeriesLabelOrder.profileTypeName }.map(\.value)
                })
                result.append(DecodedDataset(
                    tenant: ByteString("tenant-\(t)"), service: service,
                    minTimeNanos: index.from, maxTimeNanos: index.through,
                    profileTypes: profileTypes.sorted(), indexSeriesColumns: IndexSeriesColumns(index.series),
                    profiles: ParquetInputs.goldenTables[k], index: index, symbols: goldenSymbols[k]))
            }
        }
        return result
    }()

    static let id = try! ULID(parsing: Array("01J2VJR31PT3X4NDJC4Q2BHWQ1".utf8))

    static let objectBytes: [UInt8] = {
        var w = ByteWriter()
        _ = SegmentAssembler.assemble(datasets, id: id, shard: 1, hostname: "segment-writer-0", into: &w)
        return w.bytes
    }()
}

func objectBenchmarks(_ configuration: Benchmark.Configuration) {
    writerBenchmark("SymbolDBWriter.write: golden symdbs (all 11)", configuration,
                    inputs: { ObjectInputs.goldenSymbols },
                    capacity: { ObjectInputs.goldenSymbolBytes.map(\.count).max()! },
                    write: { SymbolDBWriter.write($0, into: &$1) })

    readerBenchmark("SymbolDBReader.read: golden symdbs (all 11)", configuration,
                    sections: { ObjectInputs.goldenSymbolBytes },
                    read: { raw throws(DecodeError) in try SymbolDBReader.read(raw).partitions.count })

    let name = "\(ObjectInputs.tenantCount) tenants × 11 golden datasets"
    Benchmark("SegmentAssembler.assemble: \(name)", configuration: configuration,
              closure: { benchmark in
                  var w = ByteWriter(capacity: ObjectInputs.objectBytes.count)
                  for _ in benchmark.scaledIterations {
                      w.bytes.removeAll(keepingCapacity: true)
                      benchmark.startMeasurement()
                      blackHole(SegmentAssembler.assemble(ObjectInputs.datasets, id: ObjectInputs.id, shard: 1,
                                                          hostname: "segment-writer-0", into: &w).size)
                      benchmark.stopMeasurement()
                  }
              },
              setup: { _ = ObjectInputs.objectBytes })

    Benchmark("SegmentObjectVerifier.verify: \(name)", configuration: configuration,
              closure: { benchmark in
                  for _ in benchmark.scaledIterations {
                      ObjectInputs.objectBytes.withUnsafeBytes { raw in
                          blackHole(try! SegmentObjectVerifier.verify(raw).datasets.count)
                      }
                  }
              },
              setup: { _ = ObjectInputs.objectBytes })
}
