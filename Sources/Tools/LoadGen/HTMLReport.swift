import Foundation

/// `--report DIR`: one self-contained `index.html` (inline SVG and CSS, no scripts, nothing
/// fetched) with latency over time, throughput over time, the latency distribution and, with
/// `--audit`, its verdict.
public enum HTMLReport {
    public static func write(_ report: LoadReport, directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/index.html"
        try Data(render(report).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    public static func render(_ report: LoadReport) -> String {
        var body = "<h1>loadgen report</h1>\n"
        if let calibration = report.calibration {
            body += section(calibration, title: "Calibration: closed loop", id: "calibration-")
            body += section(report.run, title: "Open loop at \(TextReport.fixed((report.rateFraction ?? 0) * 100, 0)) % of the closed-loop rate", id: "")
        } else {
            body += section(report.run, title: report.run.mode == "closed" ? "Closed loop" : "Open loop", id: "")
        }
        if let audit = report.audit {
            body += "<h2 id=\"audit\">Durability audit: \(audit.passed ? "passed" : "FAILED")</h2>\n<pre>\(escape(TextReport.render(audit)))</pre>\n"
        }
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>loadgen report</title>
        <style>
        body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
        pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
        svg { background: #fff; border: 1px solid #ddd; margin: 0.5em 0; }
        .axis { stroke: #888; } .grid { stroke: #eee; } text { font-size: 11px; fill: #444; }
        </style></head><body>
        \(body)
        </body></html>

        """
    }

    static func section(_ r: RunSummary, title: String, id: String) -> String {
        let measured = r.intervals.filter(\.measured)
        let firstMeasured = Double(measured.first?.second ?? 0)
        let lastMeasured = Double((measured.last?.second ?? 0) + 1)
        let seconds = r.intervals.map { Double($0.second) + 0.5 }
        let latency = LineChart(
            id: id + "latency-over-time", title: "Acknowledgement latency per second (ms)", xLabel: "seconds since start",
            series: [("max", "#d62728", zip(seconds, r.intervals.map(\.maxMs)).map { ($0, $1) }, true),
                     ("p99", "#ff7f0e", zip(seconds, r.intervals.map(\.p99Ms)).map { ($0, $1) }, false),
                     ("p50", "#1f77b4", zip(seconds, r.intervals.map(\.p50Ms)).map { ($0, $1) }, false)],
            shade: (firstMeasured, lastMeasured), xTicks: nil)
        let throughput = LineChart(
            id: id + "throughput-over-time", title: "Acknowledged profiles per second", xLabel: "seconds since start",
            series: [("profiles/s", "#2ca02c", zip(seconds, r.intervals.map { Double($0.profiles) }).map { ($0, $1) }, false),
                     ("errors/s", "#d62728", zip(seconds, r.intervals.map { Double($0.errors) }).map { ($0, $1) }, true)],
            shade: (firstMeasured, lastMeasured), xTicks: nil)
        // x = log10(1 / (1 - p)): 90 % → 1, 99 % → 2, 99.9 % → 3 (HdrHistogram's plot).
        let nines = { (p: Double) in log10(1 / max(1e-7, 1 - p / 100)) }
        let points = r.distribution.filter { $0.percentile < 100 }.map { (nines($0.percentile), $0.latencyMs) }
        let topNines = max(3, (points.map(\.0).max() ?? 3).rounded(.up))
        let ticks = (0 ... Int(topNines)).map { n in (Double(n), percentileLabel(Double(n))) }
        let distribution = LineChart(
            id: id + "latency-distribution", title: "Acknowledgement latency by percentile (ms), measured window", xLabel: "percentile",
            series: [("latency", "#9467bd", points, false)], shade: nil, xTicks: ticks)
        return """
        <h2>\(escape(title))</h2>
        <pre>\(escape(TextReport.render(r)))</pre>
        \(latency.svg())
        \(throughput.svg())
        \(distribution.svg())

        """
    }

    static func percentileLabel(_ nines: Double) -> String {
        switch Int(nines) {
        case 0: return "0%"
        case 1: return "90%"
        case 2: return "99%"
        default: return "99." + String(repeating: "9", count: Int(nines) - 2) + "%"
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// A line chart as inline SVG: linear axes from 0, a legend, an optional shaded x-range
/// (the measurement window).
struct LineChart {
    var id: String
    var title: String
    var xLabel: String
    /// Drawn in order (later on top); `dashed` for the outliers' line.
    var series: [(name: String, color: String, points: [(Double, Double)], dashed: Bool)]
    var shade: (Double, Double)?
    var xTicks: [(Double, String)]?
    let width = 820.0, height = 300.0, left = 60.0, right = 20.0, top = 30.0, bottom = 40.0

    func svg() -> String {
        let all = series.flatMap(\.points)
        let xMax = max(1, all.map(\.0).max() ?? 1, shade?.1 ?? 0, xTicks?.map(\.0).max() ?? 0)
        let yMax = Self.niceCeiling(max(1e-3, all.map(\.1).max() ?? 1))
        let plotW = width - left - right, plotH = height - top - bottom
        let x = { (v: Double) in left + v / xMax * plotW }
        let y = { (v: Double) in top + plotH - v / yMax * plotH }
        var s = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        s += "<text x=\"\(left)\" y=\"18\" style=\"font-size:13px;font-weight:bold\">\(HTMLReport.escape(title))</text>\n"
        if let (a, b) = shade {
            s += "<rect x=\"\(f(x(a)))\" y=\"\(top)\" width=\"\(f(max(0, x(b) - x(a))))\" height=\"\(plotH)\" fill=\"#f3f8ff\"/>\n"
        }
        for i in 0 ... 4 {
            let v = yMax * Double(i) / 4
            s += "<line class=\"grid\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(Self.label(v))</text>\n"
        }
        let ticks = xTicks ?? stride(from: 0.0, through: xMax, by: Self.niceCeiling(xMax / 8)).map { ($0, Self.label($0)) }
        for (v, text) in ticks {
            s += "<line class=\"grid\" x1=\"\(f(x(v)))\" x2=\"\(f(x(v)))\" y1=\"\(top)\" y2=\"\(top + plotH)\"/>"
            s += "<text x=\"\(f(x(v)))\" y=\"\(top + plotH + 15)\" text-anchor=\"middle\">\(HTMLReport.escape(text))</text>\n"
        }
        s += "<line class=\"axis\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(top + plotH)\" y2=\"\(top + plotH)\"/>"
        s += "<line class=\"axis\" x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(top + plotH)\"/>\n"
        s += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>\n"
        for (i, line) in series.enumerated() {
            let path = line.points.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"5,3\"" : ""
            s += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.5\"\(dash) points=\"\(path)\"><title>\(HTMLReport.escape(line.name))</title></polyline>\n"
            let lx = width - right - 110, ly = top + 8 + Double(i) * 15
            s += "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 18))\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(line.color)\" stroke-width=\"2\"\(dash)/>"
            s += "<text x=\"\(f(lx + 24))\" y=\"\(f(ly + 4))\">\(HTMLReport.escape(line.name))</text>\n"
        }
        return s + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at least `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func label(_ v: Double) -> String {
        v >= 100 || v == v.rounded() ? String(Int(v.rounded())) : LoadRunner.fixed(v, v >= 10 ? 1 : 2)
    }

    private func f(_ v: Double) -> String { LoadRunner.fixed(v, 1) }
}
