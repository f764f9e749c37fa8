import Histogram
import Synchronization

/// Latencies in microseconds, 1 µs to 10 minutes. Three significant digits for the run's
/// totals; two for the per-second intervals (a tenth of the memory, ±1 % is plenty for a plot).
public enum LatencyScale {
    public static let highestMicros: UInt64 = 600_000_000
    public static func totals() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: highestMicros, numberOfSignificantValueDigits: .three)
    }
    public static func interval() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: highestMicros, numberOfSignificantValueDigits: .two)
    }
    static func micros(_ ns: UInt64) -> UInt64 { min(highestMicros, max(1, ns / 1000)) }
}

extension IntervalSummary {
    /// Sorted by second, one entry per second. A loop that reported a second after it was
    /// reduced leaves two entries: counts add up, p99 and max take the larger (an upper
    /// bound), p50 the count-weighted mean (an approximation for that rare second).
    static func coalesced(_ summaries: [IntervalSummary]) -> [IntervalSummary] {
        var result: [IntervalSummary] = []
        for s in summaries.sorted(by: { $0.second < $1.second }) {
            guard var last = result.last, last.second == s.second else {
                result.append(s)
                continue
            }
            let n = Double(last.profiles + s.profiles)
            last.p50Ms = n == 0 ? 0 : (last.p50Ms * Double(last.profiles) + s.p50Ms * Double(s.profiles)) / n
            last.p99Ms = max(last.p99Ms, s.p99Ms)
            last.maxMs = max(last.maxMs, s.maxMs)
            last.profiles += s.profiles
            last.errors += s.errors
            last.compressedMB += s.compressedMB
            last.decompressedMB += s.decompressedMB
            last.pending += s.pending
            result[result.count - 1] = last
        }
        return result
    }
}

/// What one loop counted during one second of the run (second `index` from the start).
public struct IntervalCounts: Sendable {
    public var index: Int
    public var histogram = LatencyScale.interval()
    public var ok = 0
    public var errors = 0
    public var sentBytes = 0
    public var rawBytes = 0
    /// Pushes sent and not yet answered, plus open-loop pushes waiting for a stream, when
    /// the second was handed in.
    public var pending = 0

    public init(index: Int) { self.index = index }

    mutating func merge(_ other: IntervalCounts) {
        histogram.add(other.histogram)
        ok += other.ok
        errors += other.errors
        sentBytes += other.sentBytes
        rawBytes += other.rawBytes
        pending += other.pending
    }
}

/// One second of the run, reduced for the progress line, the JSON and the plot.
public struct IntervalSummary: Sendable, Codable, Equatable {
    public var second: Int
    public var measured: Bool
    public var profiles: Int
    public var errors: Int
    public var compressedMB: Double
    public var decompressedMB: Double
    /// In flight or waiting for a stream at the end of the second (all loops).
    public var pending: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    init(_ c: IntervalCounts, measured: Bool) {
        second = c.index
        self.measured = measured
        profiles = c.ok
        errors = c.errors
        compressedMB = Double(c.sentBytes) / 1e6
        decompressedMB = Double(c.rawBytes) / 1e6
        pending = c.pending
        let empty = c.histogram.totalCount == 0
        p50Ms = empty ? 0 : Double(c.histogram.valueAtPercentile(50)) / 1000
        p99Ms = empty ? 0 : Double(c.histogram.valueAtPercentile(99)) / 1000
        maxMs = empty ? 0 : Double(c.histogram.max) / 1000
    }
}

/// What the measurement window counted: calls started inside it give latencies (however late
/// they finish), acknowledgements arriving inside it give throughput.
public struct WindowTotals: Sendable {
    public var histogram = LatencyScale.totals()
    public var acked = 0
    public var sentBytes = 0
    public var rawBytes = 0
    public var started = 0
    public var errorsByStatus: [String: Int] = [:]
    public var firstErrorMessage: [String: String] = [:]
    /// Started in the window but not answered before the drain deadline.
    public var unanswered = 0
    /// Connections that closed during the run and were dialled again.
    public var reconnects = 0

    public init() {}

    public var errors: Int { errorsByStatus.values.reduce(0, +) }

    mutating func merge(_ other: WindowTotals) {
        histogram.add(other.histogram)
        acked += other.acked
        sentBytes += other.sentBytes
        rawBytes += other.rawBytes
        started += other.started
        unanswered += other.unanswered
        reconnects += other.reconnects
        errorsByStatus.merge(other.errorsByStatus, uniquingKeysWith: +)
        firstErrorMessage.merge(other.firstErrorMessage) { a, _ in a }
    }

    mutating func recordError(_ status: String, _ message: String) {
        errorsByStatus[status, default: 0] += 1
        if firstErrorMessage[status] == nil { firstErrorMessage[status] = message }
    }
}

/// The run's time line on the monotonic clock: warm-up, then the measurement window.
public struct RunClock: Sendable {
    public let startNs: UInt64
    public let measureStartNs: UInt64
    public let measureEndNs: UInt64

    public init(startNs: UInt64, warmupNs: UInt64, durationNs: UInt64) {
        self.startNs = startNs
        measureStartNs = startNs + warmupNs
        measureEndNs = measureStartNs + durationNs
    }

    public func secondIndex(_ ns: UInt64) -> Int { ns <= startNs ? 0 : Int((ns - startNs) / 1_000_000_000) }
    public func inWindow(_ ns: UInt64) -> Bool { ns >= measureStartNs && ns < measureEndNs }
    /// True when second `index` lies inside the measurement window.
    public func isMeasured(second index: Int) -> Bool {
        let s = startNs + UInt64(index) * 1_000_000_000
        return s >= measureStartNs && s < measureEndNs
    }
}

/// Shared between the client loops and the main thread (behind a lock, touched once per
/// second per loop): merges per-second counts from every loop, keeps the summaries, and
/// the window totals loops hand in when they finish.
public final class RunCollector: Sendable {
    private struct State {
        var open: [Int: IntervalCounts] = [:]
        /// Loops that handed in each open second.
        var reports: [Int: Int] = [:]
        var summaries: [IntervalSummary] = []
        var totals = WindowTotals()
        var loopsFinished = 0
    }
    private let state = Mutex(State())
    public let clock: RunClock
    public let loopCount: Int
    /// A second is reduced once every loop handed it in, or once this many newer seconds
    /// exist (a loop with nothing to report for it).
    private let lagSeconds = 2

    public init(clock: RunClock, loopCount: Int) {
        self.clock = clock
        self.loopCount = loopCount
    }

    public func add(_ counts: IntervalCounts) {
        state.withLock { s in
            if s.open[counts.index] != nil { s.open[counts.index]!.merge(counts) } else { s.open[counts.index] = counts }
            s.reports[counts.index, default: 0] += 1
            let newest = s.open.keys.max() ?? 0
            for index in s.open.keys.sorted() where index < newest - lagSeconds || s.reports[index]! >= loopCount {
                s.summaries.append(IntervalSummary(s.open.removeValue(forKey: index)!, measured: clock.isMeasured(second: index)))
                s.reports[index] = nil
            }
        }
    }

    public func finish(_ totals: WindowTotals) {
        state.withLock { s in
            s.totals.merge(totals)
            s.loopsFinished += 1
        }
    }

    public var loopsFinished: Int { state.withLock { $0.loopsFinished } }

    /// The newest reduced second, for the progress line.
    public var latest: IntervalSummary? { state.withLock { $0.summaries.last } }

    /// Reduces what is still open; call once every loop finished.
    public func close() -> (intervals: [IntervalSummary], totals: WindowTotals) {
        state.withLock { s in
            for index in s.open.keys.sorted() {
                s.summaries.append(IntervalSummary(s.open.removeValue(forKey: index)!, measured: clock.isMeasured(second: index)))
            }
            s.reports.removeAll()
            s.summaries = IntervalSummary.coalesced(s.summaries)
            return (s.summaries, s.totals)
        }
    }
}
