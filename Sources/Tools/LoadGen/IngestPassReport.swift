import Foundation

/// What `loadgen --in-process-passes` prints: per-pass times of decode + accumulate, of the
/// flush that follows and of the gunzip baseline (minimum and median), the throughput they
/// give, and issue #4's target (80 MB/s of compressed pprof per core) as a pass time and as a
/// ratio to the baseline.
public struct IngestPassReport: Codable, Sendable {
    public struct Times: Codable, Sendable {
        public var minMs: Double
        public var medianMs: Double

        init(_ ns: [UInt64]) {
            let sorted = ns.sorted()
            minMs = Double(sorted[0]) / 1e6
            medianMs = Double(sorted[sorted.count / 2]) / 1e6
        }
    }

    public static let targetMBps = 80.0

    public var profiles: [String]
    public var skipped: [String: String]
    public var compression: ProfileCompression
    public var normalized: Bool
    /// Bytes of the `profile` fields of one pass (what MB/s counts).
    public var profileBytes: Int
    public var passes: Int
    public var ingest: Times
    /// The flush of a pass's segment (one dataset) into an object, not part of `ingest`.
    public var flush: Times
    /// nil for raw profiles (nothing to gunzip).
    public var gunzip: Times?
    /// `profileBytes` / median ingest pass.
    public var medianMBps: Double
    public var medianProfilesPerSec: Double
    /// The pass time 80 MB/s allows (gzip only: the target counts compressed bytes).
    public var targetPassMs: Double?
    /// Median ingest ÷ median gunzip, and the same ratio at the target.
    public var ratioToGunzip: Double?
    public var targetRatioToGunzip: Double?

    public init(_ run: IngestPasses, normalized: Bool, timings: IngestPasses.Timings) {
        profiles = run.pushes.map(\.name)
        skipped = Dictionary(run.skipped.map { ($0.name, $0.reason) }, uniquingKeysWith: { a, _ in a })
        compression = run.compression
        self.normalized = normalized
        profileBytes = run.profileBytes
        passes = timings.ingestNs.count
        ingest = Times(timings.ingestNs)
        flush = Times(timings.flushNs)
        gunzip = timings.gunzipNs.isEmpty ? nil : Times(timings.gunzipNs)
        medianMBps = Double(profileBytes) / ingest.medianMs / 1e3
        medianProfilesPerSec = Double(profiles.count) / ingest.medianMs * 1e3
        let targetPassMs = Double(profileBytes) / (Self.targetMBps * 1e3)
        self.targetPassMs = gunzip == nil ? nil : targetPassMs
        ratioToGunzip = gunzip.map { ingest.medianMs / $0.medianMs }
        targetRatioToGunzip = gunzip.map { targetPassMs / $0.medianMs }
    }

    public func text() -> String {
        let form = (normalized ? "normalized, " : "") + (compression == .gzip ? "gzip" : "raw")
        var lines = ["\(profiles.count) profiles (\(form)), \(profileBytes) B per pass, \(passes) passes"]
        lines.append(String(format: "decode+accumulate  min %.3f ms  median %.3f ms  → %.1f MB/s, %.0f profiles/s (median)",
                            ingest.minMs, ingest.medianMs, medianMBps, medianProfilesPerSec))
        if let gunzip, let ratio = ratioToGunzip, let targetMs = targetPassMs, let target = targetRatioToGunzip {
            lines.append(String(format: "gunzip baseline    min %.3f ms  median %.3f ms", gunzip.minMs, gunzip.medianMs))
            lines.append(String(format: "ratio to gunzip    %.2f× (median); %.0f MB/s of gzip is a pass of %.3f ms = %.2f× this run's gunzip",
                                ratio, Self.targetMBps, targetMs, target))
        }
        lines.append(String(format: "flush (not above)  min %.3f ms  median %.3f ms = %.2f× decode+accumulate (median)",
                            flush.minMs, flush.medianMs, flush.medianMs / ingest.medianMs))
        for (name, reason) in skipped.sorted(by: { $0.key < $1.key }) { lines.append("skipped \(name): \(reason)") }
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
