import Foundation
import Pprof
import Testing
import TestSupport
@testable import LoadGen

/// `loadgen --in-process-passes`: the corpus as the ingest benchmarks build it, pass timings
/// beside the gunzip baseline, and what the report derives from them.
@Suite struct IngestPassesTests {
    static let directory = TestData.pprofDirectory.path

    /// The gzip form is the benchmarks' accumulator corpus: the files the accumulator accepts,
    /// gzip files as they are and raw ones compressed (457 685 bytes in all).
    @Test func theGzipFormIsTheBenchmarksCorpus() throws {
        let run = try IngestPasses(directory: Self.directory, compression: .gzip, normalize: false)
        #expect(Set(run.skipped.map(\.name)) == ["dotnet-pprof-3.pb.gz", "dotnet.labels.pprof", "pyspy-1.pb.gz"])
        #expect(run.pushes.count == (try TestData.pprofFiles()).count - 3)
        #expect(run.pushes.allSatisfy { $0.profile.starts(with: [0x1F, 0x8B, 0x08]) })
        let asWritten = try Data(contentsOf: TestData.pprofDirectory.appendingPathComponent("heap"))
        #expect(run.pushes.first { $0.name == "heap" }?.profile == [UInt8](asWritten), "a gzip file is sent as the agent wrote it")
        #expect(run.profileBytes == 457_685)
    }

    /// Raw and normalized forms carry the same profiles, decodable, without gzip.
    @Test func rawAndNormalizedFormsDecode() throws {
        let raw = try IngestPasses(directory: Self.directory, compression: .none, normalize: false)
        let normalized = try IngestPasses(directory: Self.directory, compression: .none, normalize: true)
        #expect(normalized.skipped.map(\.name) == ["dotnet-pprof-3.pb.gz"], "the stub mapping lets the labelled .NET and py-spy files in")
        let decoder = PprofDecoder()
        for p in raw.pushes + normalized.pushes {
            #expect(!p.profile.starts(with: [0x1F, 0x8B]))
            try p.profile.withUnsafeBytes { try decoder.decode($0) }
            #expect(decoder.sampleCount > 0, "\(p.name)")
        }
        let heap = try #require(raw.pushes.first { $0.name == "heap" })
        let normalizedHeap = try #require(normalized.pushes.first { $0.name == "heap" })
        #expect(normalizedHeap.profile.count < heap.profile.count, "heap's numeric labels are gone")
    }

    /// `--only` keeps the named files; every timed pass gets one ingest, flush and gunzip timing,
    /// and the report's throughput and target follow from them.
    @Test func passesAreTimedBesideTheBaseline() throws {
        let run = try IngestPasses(directory: Self.directory, compression: .gzip, normalize: false,
                                   only: ["heap", "profile_java", "dotnet-pprof-3.pb.gz"])
        #expect(run.pushes.map(\.name) == ["heap", "profile_java"])
        #expect(run.skipped.map(\.name) == ["dotnet-pprof-3.pb.gz"])
        let timings = run.run(passes: 3, warmup: 1)
        #expect(timings.ingestNs.count == 3 && timings.gunzipNs.count == 3 && timings.flushNs.count == 3)
        #expect(timings.ingestNs.allSatisfy { $0 > 0 } && timings.gunzipNs.allSatisfy { $0 > 0 })
        #expect(timings.flushNs.allSatisfy { $0 > 0 })

        let report = IngestPassReport(run, normalized: false, timings: timings)
        #expect(report.passes == 3 && report.profiles == ["heap", "profile_java"])
        #expect(abs(report.medianMBps - Double(run.profileBytes) / report.ingest.medianMs / 1e3) < 1e-9)
        let targetMs = try #require(report.targetPassMs)
        #expect(abs(targetMs - Double(run.profileBytes) / 80e3) < 1e-9)
        let gunzip = try #require(report.gunzip)
        #expect(report.ratioToGunzip == report.ingest.medianMs / gunzip.medianMs)
        #expect(report.ingest.minMs <= report.ingest.medianMs && report.flush.minMs <= report.flush.medianMs)
        #expect(report.text().contains("flush (not above)"))
        #expect(report.text().contains("skipped dotnet-pprof-3.pb.gz"))
        let json = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
        #expect(json?["profileBytes"] as? Int == run.profileBytes)
    }

    /// The report's arithmetic on fixed timings, against figures worked out by hand: 279 715 B
    /// of gzip (the two files as they are on disk) in a 10 ms median pass is 27.9715 MB/s.
    @Test func reportFiguresFromFixedTimings() throws {
        let run = try IngestPasses(directory: Self.directory, compression: .gzip, normalize: false,
                                   only: ["heap", "profile_java"])
        #expect(run.profileBytes == 261_569 + 18_146)
        var timings = IngestPasses.Timings()
        timings.ingestNs = [12_000_000, 8_000_000, 10_000_000]
        timings.gunzipNs = [3_000_000, 2_500_000, 2_000_000]
        timings.flushNs = [1_000_000, 1_000_000, 1_000_000]
        let report = IngestPassReport(run, normalized: false, timings: timings)
        #expect(report.ingest.medianMs == 10 && report.ingest.minMs == 8)
        #expect(abs(report.medianMBps - 27.9715) < 1e-9)
        #expect(abs(report.medianProfilesPerSec - 200) < 1e-9)
        #expect(abs(try #require(report.targetPassMs) - 3.4964375) < 1e-9)
        #expect(abs(try #require(report.ratioToGunzip) - 4) < 1e-9)
        #expect(abs(try #require(report.targetRatioToGunzip) - 1.398575) < 1e-9)
    }

    /// Raw profiles have nothing to gunzip: no baseline, and no target (it counts gzip bytes).
    @Test func rawPassesHaveNoBaseline() throws {
        let run = try IngestPasses(directory: Self.directory, compression: .none, normalize: false, only: ["profile_java"])
        let report = IngestPassReport(run, normalized: false, timings: run.run(passes: 2, warmup: 0))
        #expect(report.gunzip == nil && report.targetPassMs == nil && report.ratioToGunzip == nil)
        #expect(!report.text().contains("gunzip"))
    }
}
