/// What `/proc/PID/stat` says of a process (proc(5)): CPU time, start time and memory, as
/// Prometheus' process collector and loadgen's server sampling read them.
public struct ProcessStat: Sendable, Equatable {
    /// utime and stime (fields 14, 15), in clock ticks (`sysconf(_SC_CLK_TCK)`).
    public var userTicks: UInt64
    public var systemTicks: UInt64
    /// starttime (field 22): clock ticks after boot.
    public var startTicks: UInt64
    /// vsize (field 23).
    public var virtualBytes: UInt64
    /// rss (field 24), in pages.
    public var residentPages: UInt64

    public init(userTicks: UInt64, systemTicks: UInt64, startTicks: UInt64, virtualBytes: UInt64, residentPages: UInt64) {
        self.userTicks = userTicks
        self.systemTicks = systemTicks
        self.startTicks = startTicks
        self.virtualBytes = virtualBytes
        self.residentPages = residentPages
    }

    /// The fields above from the file's text; nil when it is not a stat line. The command name
    /// (field 2, in parentheses) may hold spaces and parentheses: fields are counted after its
    /// last `)`.
    public static func parse(_ text: String) -> ProcessStat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // rest[0] is field 3 (state).
        let rest = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard rest.count > 21, let user = UInt64(rest[11]), let system = UInt64(rest[12]), let start = UInt64(rest[19]),
              let virtual = UInt64(rest[20]), let resident = Int64(rest[21]) else { return nil }
        return ProcessStat(userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual,
                           residentPages: UInt64(max(0, resident)))
    }
}
