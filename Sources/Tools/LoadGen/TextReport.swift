import Foundation

/// The human-readable summary printed at the end of a run, and the `--json` form.
public enum TextReport {
    public static func render(_ report: LoadReport) -> String {
        var out = ""
        if let calibration = report.calibration {
            out += "== calibration (closed loop) ==\n" + render(calibration)
            out += "\n== open loop at \(fixed((report.rateFraction ?? 0) * 100, 0)) % of \(fixed(calibration.throughput.profilesPerSec, 1)) profiles/s ==\n"
        }
        out += render(report.run)
        if let audit = report.audit { out += render(audit) }
        return out
    }

    public static func render(_ a: DurabilityAudit) -> String {
        var line = "audit       \(a.passed ? "passed" : "FAILED"): \(a.acked) of \(a.sent) pushes acked OK; \(a.objects) objects hold \(a.storedProfiles) profiles;"
        line += " lost \(a.lost), unknown \(a.unknown)\(a.othersMayPush ? " (others may push)" : ""), duplicated \(a.duplicated), stored unacknowledged \(a.storedUnacknowledged)"
        line += "; " + metadata(a)
        var lines = [line]
        if !a.lostExamples.isEmpty { lines.append("            lost, e.g.: \(a.lostExamples.joined(separator: " "))") }
        for u in a.unreadable.prefix(5) { lines.append("            unreadable: \(u)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Where the objects' metadata was found.
    static func metadata(_ a: DurabilityAudit) -> String {
        guard a.metadataChecked else { return "metadata not checked" }
        let unregistered = "\(a.unregistered) unregistered (\(a.unregisteredAcknowledged) holding pushes acked OK)"
        let orphans = "\(a.orphanMetadata) DLQ records without object"
        guard a.metastoreChecked else { return "DLQ metadata: \(unregistered), \(orphans)" }
        return "metastore holds \(a.registeredInMetastore), the DLQ \(a.objects - a.registeredInMetastore - a.unregistered), \(unregistered), \(orphans)"
    }

    public static func render(_ r: RunSummary) -> String {
        var lines: [String] = []
        let mode = r.mode == "closed" ? "closed loop (\(r.connections) connections × \(r.streamsPerConnection) streams)"
            : "open loop at \(fixed(r.targetPushesPerSec ?? 0, 1)) pushes/s (\(r.connections) connections × \(r.streamsPerConnection) streams)"
        lines.append("mode        \(mode), \(r.clientLoops) client loop(s), warm-up \(fixed(r.warmupSeconds, 1)) s, measured \(fixed(r.durationSeconds, 1)) s")
        lines.append("workload    \(r.workload.tenants) tenant(s), \(r.workload.services) service(s), label cardinality \(r.workload.labelCardinality), \(r.workload.shards) shard(s), profile \(r.workload.compression.rawValue)\(r.workload.normalized ? " normalized" : ""); corpus \(r.corpusFiles.count) file(s), \(r.corpusSkipped.count) skipped")
        let t = r.throughput
        lines.append("throughput  \(fixed(t.profilesPerSec, 1)) profiles/s, \(fixed(t.compressedMBps, 2)) MB/s sent, \(fixed(t.decompressedMBps, 2)) MB/s decompressed (\(t.ackedProfiles) acked)")
        let l = r.latencyMs
        lines.append("ack latency p50 \(fixed(l.p50, 1)) ms, p90 \(fixed(l.p90, 1)) ms, p99 \(fixed(l.p99, 1)) ms, p99.9 \(fixed(l.p999, 1)) ms, max \(fixed(l.max, 1)) ms (\(l.count) pushes)")
        // A connection the writer closed or refused is no error of a call, but a load tester must
        // see it: the calls it would have carried went elsewhere, or nowhere.
        let reconnects = r.errors.reconnects > 0 ? "; \(r.errors.reconnects) reconnect(s)" : ""
        if r.errors.total == 0 {
            lines.append("errors      none\(reconnects)")
        } else {
            var parts = r.errors.byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            if r.errors.unanswered > 0 { parts.append("unanswered \(r.errors.unanswered)") }
            lines.append("errors      \(r.errors.total): \(parts.joined(separator: ", "))\(reconnects)")
            for (status, message) in r.errors.messages.sorted(by: { $0.key < $1.key }) { lines.append("            \(status): \(message)") }
        }
        if let s = r.server {
            lines.append("server      RSS min \(mib(s.rssMinBytes)) max \(mib(s.rssMaxBytes)) last \(mib(s.rssLastBytes)) MiB, growth \(mib(s.rssGrowthBytes)) MiB over the window; CPU \(fixed(s.cpuCores, 2)) cores")
        }
        lines.append("client      CPU \(fixed(r.clientCpuCores, 2)) cores, payload refresh max \(fixed(r.payloadRefreshMaxMs, 1)) ms")
        if let o = r.objects {
            let gap = o.minIntervalMs.map { ", shortest gap \($0) ms" } ?? ""
            lines.append("objects     \(o.objects) in \(o.shardsActive) shard(s): \(fixed(o.perShardPerSegment, 3)) per shard per \(o.segmentDurationMs) ms segment (max shard \(fixed(o.maxPerShardPerSegment, 3)), ideal 1.0)\(gap)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ report: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    static func mib(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 1) }

    static func fixed(_ v: Double, _ digits: Int) -> String { LoadRunner.fixed(v, digits) }
}
