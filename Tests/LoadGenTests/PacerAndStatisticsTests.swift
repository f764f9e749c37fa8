import GRPC
import Histogram
import Testing
@testable import LoadGen

@Suite struct PacerTests {
    @Test func pushesAreDueOnTheirScheduleNotWhenThePreviousOneWasSent() {
        var pacer = OpenLoopPacer(startNs: 1_000, pushesPerSecond: 1000)
        #expect(pacer.intendedNs(0) == 1_000)
        #expect(pacer.intendedNs(3) == 3_001_000)
        // 10 ms late: pushes 0…10 are all due at once, each with its own intended time.
        var due: [UInt64] = []
        while let t = pacer.nextDue(nowNs: 10_001_000, endNs: .max) { due.append(t) }
        #expect(due.count == 11)
        #expect(due == (0 ... 10).map { 1_000 + UInt64($0) * 1_000_000 })
        #expect(pacer.nextDue(nowNs: 10_500_000, endNs: .max) == nil)
        #expect(pacer.nextDue(nowNs: 11_001_000, endNs: .max) == 11_001_000)
    }

    @Test func nothingIsIssuedFromTheEndOfTheRunOn() {
        var pacer = OpenLoopPacer(startNs: 0, pushesPerSecond: 100)
        var count = 0
        while pacer.nextDue(nowNs: 5_000_000_000, endNs: 1_000_000_000) != nil { count += 1 }
        #expect(count == 100)
    }

    @Test func fractionalRatesKeepTheirAverage() {
        var pacer = OpenLoopPacer(startNs: 0, pushesPerSecond: 333.3)
        var count = 0
        while pacer.nextDue(nowNs: 9_999_999_999, endNs: .max) != nil { count += 1 }
        #expect(count == 3333)
    }
}

@Suite struct StatisticsTests {
    let clock = RunClock(startNs: 1_000_000_000, warmupNs: 2_000_000_000, durationNs: 3_000_000_000)

    @Test func theClockSplitsWarmupFromTheWindow() {
        #expect(clock.secondIndex(500) == 0)
        #expect(clock.secondIndex(3_500_000_000) == 2)
        #expect(!clock.inWindow(2_999_999_999) && clock.inWindow(3_000_000_000) && !clock.inWindow(6_000_000_000))
        #expect((0 ..< 6).map(clock.isMeasured(second:)) == [false, false, true, true, true, false])
    }

    @Test func aSecondIsReducedOnceEveryLoopHandedItIn() throws {
        let collector = RunCollector(clock: clock, loopCount: 2)
        var a = IntervalCounts(index: 2)
        a.ok = 3
        a.sentBytes = 3_000_000
        a.pending = 5
        for ms in [10, 20, 30] { _ = a.histogram.record(UInt64(ms * 1000)) }
        collector.add(a)
        #expect(collector.latest == nil)
        var b = IntervalCounts(index: 2)
        b.ok = 1
        b.errors = 2
        b.pending = 7
        _ = b.histogram.record(1_000_000)
        collector.add(b)
        let latest = try #require(collector.latest)
        #expect(latest.second == 2 && latest.measured)
        #expect(latest.profiles == 4 && latest.errors == 2 && latest.compressedMB == 3 && latest.pending == 12)
        #expect(abs(latest.maxMs - 1000) < 10)
        #expect(abs(latest.p50Ms - 20) < 0.5)
    }

    @Test func aLateLoopIsFoldedIntoItsSecond() {
        let collector = RunCollector(clock: clock, loopCount: 2)
        for index in [0, 1, 2, 3, 4] {
            var c = IntervalCounts(index: index)
            c.ok = 1
            _ = c.histogram.record(5_000)
            collector.add(c)
        }
        var late = IntervalCounts(index: 0)
        late.ok = 2
        _ = late.histogram.record(50_000)
        collector.add(late)
        let (intervals, _) = collector.close()
        #expect(intervals.map(\.second) == [0, 1, 2, 3, 4])
        #expect(intervals[0].profiles == 3)
        #expect(abs(intervals[0].maxMs - 50) < 0.5)
    }

    @Test func windowTotalsMergeAndKeepTheFirstMessage() {
        var a = WindowTotals()
        a.acked = 2
        a.recordError("UNAVAILABLE", "first")
        _ = a.histogram.record(1_000)
        var b = WindowTotals()
        b.acked = 3
        b.unanswered = 1
        b.recordError("UNAVAILABLE", "second")
        b.recordError("INVALID_ARGUMENT", "bad")
        _ = b.histogram.record(9_000)
        a.merge(b)
        #expect(a.acked == 5 && a.errors == 3 && a.unanswered == 1)
        #expect(a.errorsByStatus == ["UNAVAILABLE": 2, "INVALID_ARGUMENT": 1])
        #expect(a.firstErrorMessage["UNAVAILABLE"] == "first")
        #expect(a.histogram.totalCount == 2)
    }

    @Test func percentilesComeOutOrdered() {
        var h = LatencyScale.totals()
        var rng = SplitMix(seed: 7)
        for _ in 0 ..< 100_000 { _ = h.record(1 + rng.next() % 2_000_000) }
        let l = RunSummary.Latency(h)
        #expect(l.count == 100_000)
        #expect(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max)
        #expect(abs(l.p50 - 1000) < 20)
        let points = RunSummary.distribution(h)
        #expect(points.first?.percentile == 0 && points.last?.percentile == 100)
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.latencyMs <= $1.latencyMs })
    }

    @Test func latenciesAreClampedToTheTrackableRange() {
        #expect(LatencyScale.micros(0) == 1)
        #expect(LatencyScale.micros(2_500) == 2)
        #expect(LatencyScale.micros(.max) == LatencyScale.highestMicros)
    }

    @Test func statusNamesAreGrpcGos() {
        #expect(StatusName.of(.ok) == "OK")
        #expect(StatusName.of(.resourceExhausted) == "RESOURCE_EXHAUSTED")
        #expect(StatusName.of(.unavailable) == "UNAVAILABLE")
    }
}
