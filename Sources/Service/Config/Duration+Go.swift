/// Go `time.ParseDuration` syntax ("500ms", "1m30s", "1.5h"), as Pyroscope flags and YAML use it.
enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Nanoseconds, or nil when `text` is not a Go duration.
    static func parseNanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        var sign: Double = 1
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !$0.isNumber && $0 != "." }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        // Go's largest duration (dskit's "infinity", 2562047h47m16.854775807s) rounds to 2^63
        // as a Double, one past `Int64.max`: it saturates instead of trapping.
        guard total <= Double(Int64.max) else { return nil }
        return total == Double(Int64.max) ? (sign < 0 ? Int64.min : Int64.max) : Int64(sign * total)
    }

    /// The shortest Go-style rendering, for `-help` defaults.
    static func format(nanoseconds ns: Int64) -> String {
        if ns == 0 { return "0s" }
        if ns == Int64.max { return "2562047h47m16.854775807s" }
        if ns % 3_600_000_000_000 == 0 { return "\(ns / 3_600_000_000_000)h" }
        if ns % 60_000_000_000 == 0 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        return "\(ns)ns"
    }
}
