import Foundation
import ObjectStorage
import SegmentObject
import Testing
@testable import LoadGen

@Suite struct ObjectCensusTests {
    /// One object per 500 ms tick on shard 1, an extra (size-triggered) one on shard 2.
    @Test func objectsArePerShardPerSegmentDuration() {
        let start: UInt64 = 1_764_000_000_000
        let ticks = (0 ..< 10).map { start + 250 + UInt64($0) * 500 }
        let times: [UInt32: [UInt64]] = [1: ticks, 2: (ticks + [start + 1_000]).sorted(), 3: [start - 10, start + 5_000]]
        let census = ObjectCensus(openTimes: times, windowStartUnixMs: start, windowEndUnixMs: start + 5_000, segmentDurationMs: 500)
        #expect(census.idealPerShard == 10)
        #expect(census.objectsPerShard == ["1": 10, "2": 11])
        #expect(census.shardsActive == 2 && census.objects == 21)
        #expect(census.perShardPerSegment == 1.05 && census.maxPerShardPerSegment == 1.1)
        #expect(census.minIntervalMs == 250)
    }

    @Test func theBucketIsReadBySegmentPath() throws {
        let dir = NSTemporaryDirectory() + "/loadgen-census-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ulid = ULID(timeMs: 1_764_000_000_500, entropy: Array(repeating: 7, count: 10))
        for (shard, withBlock) in [("3", true), ("4", false), ("x", true)] {
            let segment = "\(dir)/segments/\(shard)/anonymous/\(ulid)"
            try FileManager.default.createDirectory(atPath: segment, withIntermediateDirectories: true)
            if withBlock { _ = FileManager.default.createFile(atPath: segment + "/block.bin", contents: Data([1])) }
        }
        #expect(try ObjectCensus.scan(FilesystemObjectStore(root: dir)) == [3: [1_764_000_000_500]])
    }
}

@Suite struct ServerProcessParsingTests {
    @Test func portsComeFromTheListeningLine() {
        let line = #"ts=2026-11-26T01:00:00.000Z level=info msg="server listening" grpc=127.0.0.1:40897 http=127.0.0.1:41011 loops=2"#
        #expect(ServerProcess.listeningPorts(line)! == (40897, 41011))
        let dualStack = #"ts=2026-11-26T01:00:00.000Z level=info msg="server listening" grpc=[::]:9095 http=[::1]:4040 loops=2"#
        #expect(ServerProcess.listeningPorts(dualStack)! == (9095, 4040))
        #expect(ServerProcess.listeningPorts(#"msg="segment-writer serving" segment_duration_ms=500"#) == nil)
        #expect(ServerProcess.field("segment_duration_ms", in: #"msg="segment-writer serving" segment_duration_ms=500 storage=fs"#) == "500")
    }

    @Test func targetsAreHostPortBracketedIPv6OrNames() throws {
        for (target, host, port) in [("127.0.0.1:9095", "127.0.0.1", 9095), ("[::1]:9096", "::1", 9096),
                                     ("writer-0.writers:9095", "writer-0.writers", 9095),
                                     ("localhost:9095", "127.0.0.1", 9095)] as [(String, String, UInt16)] {
            let options = try #require(RunOptions(target: target))
            #expect((options.host, options.port) == (host, port), "\(target)")
        }
        for malformed in ["::1:9095", "127.0.0.1", "[::1]"] { #expect(RunOptions(target: malformed) == nil) }
    }

    @Test func rssAndCpuComeFromProc() throws {
        let stat = "4242 (segment writer) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 150 0 0 20 0 3 0 100 1000000 2500 18446744073709551615"
        let sample = try #require(ResourceSample.parse(stat: stat, pageBytes: 4096, ticksPerSecond: 100, nowNs: 5))
        #expect(sample.rssBytes == 2500 * 4096)
        #expect(sample.cpuSeconds == 4.0)
        #expect(ResourceSample.read(pid: getpid()).map { $0.rssBytes > 0 } == true)
    }

    @Test func serverUsageCoversTheWindow() throws {
        let clock = RunClock(startNs: 0, warmupNs: 1_000_000_000, durationNs: 2_000_000_000)
        let samples = [(0.5, 100, 0.0), (1.0, 200, 1.0), (2.0, 150, 2.5), (3.0, 260, 4.0), (4.0, 300, 4.5)].map {
            ResourceSample(monotonicNs: UInt64($0.0 * 1e9), rssBytes: $0.1, cpuSeconds: $0.2)
        }
        let usage = try #require(RunSummary.serverUsage(pid: 1, samples: samples, clock: clock))
        #expect(usage.rssMinBytes == 100 && usage.rssMaxBytes == 300 && usage.rssLastBytes == 300 && usage.rssFirstBytes == 100)
        #expect(usage.rssGrowthBytes == 60)
        #expect(usage.cpuCores == 1.5 && usage.cpuSeconds == 3.0)
    }
}

@Suite struct ReportTests {
    static func summary() -> RunSummary {
        var h = LatencyScale.totals()
        for v in stride(from: 1_000, through: 900_000, by: 1_000) { _ = h.record(UInt64(v)) }
        let clock = RunClock(startNs: 0, warmupNs: 1_000_000_000, durationNs: 3_000_000_000)
        let intervals = (0 ..< 5).map { s -> IntervalSummary in
            var c = IntervalCounts(index: s)
            c.ok = 10 + s
            _ = c.histogram.record(UInt64(100_000 * (s + 1)))
            return IntervalSummary(c, measured: clock.isMeasured(second: s))
        }
        return RunSummary(
            mode: "closed", targetPushesPerSec: nil, connections: 2, streamsPerConnection: 4, clientLoops: 1,
            warmupSeconds: 1, durationSeconds: 3, workload: WorkloadShape(), corpusFiles: ["heap"], corpusSkipped: [],
            throughput: .init(ackedProfiles: 36, profilesPerSec: 12, compressedMBps: 1.5, decompressedMBps: 4.5,
                              compressedBytes: 4_500_000, decompressedBytes: 13_500_000, startedPushes: 36),
            latencyMs: .init(h), errors: .init(total: 1, byStatus: ["UNAVAILABLE": 1], messages: ["UNAVAILABLE": "<closed> & gone"],
                                               unanswered: 0, reconnects: 1),
            server: nil, clientCpuCores: 0.2, objects: nil, payloadRefreshMaxMs: 3, intervals: intervals, distribution: RunSummary.distribution(h))
    }

    @Test func theHTMLPageIsSelfContainedWithBothPlots() {
        let html = HTMLReport.render(LoadReport(run: Self.summary()))
        #expect(html.contains("<svg id=\"latency-over-time\""))
        #expect(html.contains("<svg id=\"latency-distribution\""))
        #expect(html.contains("<svg id=\"throughput-over-time\""))
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=") && !html.contains("@import"))
        #expect(html.contains("&lt;closed&gt; &amp; gone"))
        #expect(html.contains("<polyline"))
    }

    @Test func aCalibratedRunShowsBothRuns() {
        let html = HTMLReport.render(LoadReport(run: Self.summary(), calibration: Self.summary(), rateFraction: 0.7))
        #expect(html.contains("id=\"calibration-latency-over-time\"") && html.contains("id=\"latency-over-time\""))
        #expect(html.contains("70 % of the closed-loop rate"))
    }

    @Test func jsonRoundTrips() throws {
        let report = LoadReport(run: Self.summary(), calibration: nil, rateFraction: nil)
        let text = try TextReport.json(report)
        let decoded = try JSONDecoder().decode(LoadReport.self, from: Data(text.utf8))
        #expect(decoded.run.latencyMs.p99 == report.run.latencyMs.p99)
        #expect(decoded.run.intervals == report.run.intervals)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let run = try #require(object["run"] as? [String: Any])
        #expect(Set(["throughput", "latencyMs", "errors", "intervals", "distribution"]).isSubset(of: run.keys))
    }

    @Test func theTextSummaryNamesTheFigures() {
        let text = TextReport.render(Self.summary())
        #expect(text.contains("12.0 profiles/s, 1.50 MB/s sent, 4.50 MB/s decompressed"))
        #expect(text.contains("UNAVAILABLE 1"))
        #expect(text.contains("p99.9"))
        #expect(text.contains("1 reconnect(s)"))
        // Connections lost without a failed call are still reported.
        var clean = Self.summary()
        clean.errors.total = 0
        clean.errors.byStatus = [:]
        #expect(TextReport.render(clean).contains("errors      none; 1 reconnect(s)"))
        // Calls only abandoned at the drain deadline (an open loop past capacity) read as a list too.
        var abandoned = clean
        abandoned.errors.total = 7
        abandoned.errors.unanswered = 7
        #expect(TextReport.render(abandoned).contains("errors      7: unanswered 7; 1 reconnect(s)"))
        abandoned.errors.total = 8
        abandoned.errors.byStatus = ["UNAVAILABLE": 1]
        #expect(TextReport.render(abandoned).contains("errors      8: UNAVAILABLE 1, unanswered 7; 1 reconnect(s)"))
    }

    @Test func chartScalesAreRound() {
        #expect(LineChart.niceCeiling(0.7) == 1)
        #expect(LineChart.niceCeiling(13) == 20)
        #expect(LineChart.niceCeiling(420) == 500)
        #expect(LoadRunner.fixed(3.14159, 2) == "3.14" && LoadRunner.fixed(2, 1) == "2.0" && LoadRunner.fixed(7.6, 0) == "8")
    }
}
