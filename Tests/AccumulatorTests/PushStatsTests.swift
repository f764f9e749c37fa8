import BinaryCoding
import Foundation
import Pprof
import ProfilesParquet
import SegmentObject
import Testing
@testable import Accumulator

/// What a push and a flush report for upstream's head metrics (ingest-and-ops.md §5.3),
/// checked against an independent decode of the profile and against the flushed object.
@Suite struct PushStatsTests {
    static func push(_ file: String, service: ByteString, id: UInt8) throws -> TestPush {
        TestPush(tenant: "anonymous", labels: [("__name__", "process_cpu"), ("service_name", service)],
                 profile: try corpusFile(file), id: profileID(id))
    }

    static func ingest(_ accumulator: ShardAccumulator, _ push: TestPush) throws -> PushIngestStats {
        let bytes = push.message.encode()
        let result: Result<PushIngestStats, PushError> = bytes.withUnsafeBytes { raw in
            do throws(PushError) {
                return .success(try accumulator.ingest(try PushRequestView(raw)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Rows (sample types with a non-zero value) and their non-zero values, from the plain decode.
    static func expected(_ p: PprofProfile) -> (rows: Int, values: Int) {
        var rows = 0, values = 0
        for t in p.sampleTypes.indices {
            let n = p.samples.count { $0.values[t] != 0 }
            if n > 0 { rows += 1; values += n }
        }
        return (rows, values)
    }

    @Test(arguments: ["cpu_go_truncated_1.pb.gz", "profile_ruby", "heap_delta"])
    func aPushReportsItsRowsSeriesAndValues(file: String) throws {
        let stored = try corpusFile(file)
        let plain = try decodeProfile(stored)
        let (rows, values) = Self.expected(plain)
        let accumulator = ShardAccumulator()
        let first = try Self.ingest(accumulator, try Self.push(file, service: "a", id: 1))
        #expect(first.profilesCreated == rows)
        #expect(first.seriesCreated == rows, "one new series per row of a new dataset")
        #expect(first.sampleValuesIngested == values)
        #expect(first.sampleValuesReceived == rows * plain.samples.count)
        let inflated = try stored.withUnsafeBytes { raw in try ProfileInflater(maxDecompressedBytes: 64 << 20).inflate(raw).count }
        #expect(first.profileBytes == inflated, "the decoded size, as upstream's p.SizeVT()")
        // The same profile again: same rows and values, no new series.
        let again = try Self.ingest(accumulator, try Self.push(file, service: "a", id: 2))
        #expect(again.profilesCreated == rows && again.seriesCreated == 0 && again.sampleValuesIngested == values)
    }

    @Test func aFlushReportsEachDatasetAndItsSections() throws {
        let accumulator = ShardAccumulator()
        var ingested: [ByteString: (rows: Int, series: Int, values: Int)] = [:]
        for (file, service, id) in [("profile_ruby", "b", 1), ("cpu_go_truncated_1.pb.gz", "a", 2), ("profile_ruby", "b", 3)] as [(String, ByteString, UInt8)] {
            let s = try Self.ingest(accumulator, try Self.push(file, service: service, id: id))
            let sum = ingested[service] ?? (0, 0, 0)
            ingested[service] = (sum.rows + s.profilesCreated, sum.series + s.seriesCreated, sum.values + s.sampleValuesIngested)
        }
        var w = ByteWriter()
        let id = ULID(timeMs: 1_700_000_000_000, entropy: Array(repeating: 7, count: 10))
        let (meta, datasets) = try #require(accumulator.flushWithStats(segmentID: id, shard: 1, createdBy: "test-host", into: &w))
        let services = meta.datasets.filter { $0.format == DatasetFormat.services.rawValue }
        #expect(datasets.count == 2 && services.count == 2)
        for (stats, dataset) in zip(datasets, services) {
            let name = try #require(meta.string(at: dataset.name))
            let pushed = try #require(ingested[name])
            #expect(stats.profiles == pushed.rows && stats.series == pushed.series && stats.samples == pushed.values, "\(name)")
            #expect(stats.profilesBytes + stats.indexBytes + stats.symbolsBytes == Int(dataset.size))
            // The profiles section is a Parquet file of exactly those rows.
            let start = Int(dataset.tableOfContents[0])
            let section = Array(w.bytes[start ..< start + stats.profilesBytes])
            let table = try section.withUnsafeBytes { try ProfilesParquetReader.read($0) }
            #expect(table.rowCount == stats.profiles, "\(name)")
            // The Ruby agent's profile has no mappings: its locations count as unsymbolized
            // (Accumulator/README.md); Go's runtime writes symbolized mappings.
            #expect(stats.unsymbolized == (name == "b"), "\(name)")
            #expect(stats.tenant == (try #require(meta.string(at: dataset.tenant))))
            #expect(stats.durationNs > 0 && stats.durationNs < 10_000_000_000, "\(name): \(stats.durationNs) ns")
        }
    }
}
