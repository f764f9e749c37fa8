import Prometheus
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Prometheus' process collector, as client_golang registers it in every Pyroscope component
/// (dashboards and alerts read `process_resident_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`): read from `/proc/self` when `/metrics` is scraped.
final class ProcessCollector: Sendable {
    private let cpu: Counter
    private let cpuSecondsCounted = Mutex<Double>(0)
    private let resident: Gauge
    private let virtual: Gauge
    private let virtualMax: Gauge
    private let openFDs: Gauge
    private let maxFDs: Gauge
    private let startTime: Gauge
    private let pageBytes = Double(sysconf(Int32(_SC_PAGESIZE)))
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
        }
        cpu = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "process_cpu_seconds_total", unitName: "",
                                                                    helpText: "Total user and system CPU time spent in seconds."))
        resident = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        virtual = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        virtualMax = gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.")
        openFDs = gauge("process_open_fds", "Number of open file descriptors.")
        maxFDs = gauge("process_max_fds", "Maximum number of open file descriptors.")
        startTime = gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
    }

    /// Sets every value from `/proc`; one that cannot be read keeps its last value.
    func refresh() {
        if let text = try? TextFile.read("/proc/self/stat"), let stat = ProcessStat.parse(text) {
            let seconds = Double(stat.userTicks + stat.systemTicks) / ticksPerSecond
            // The counter only grows: it takes the CPU time used since the last scrape.
            let delta = cpuSecondsCounted.withLock { counted in
                defer { counted = max(counted, seconds) }
                return max(0, seconds - counted)
            }
            if delta > 0 { cpu.increment(by: delta) }
            resident.set(to: Double(stat.residentPages) * pageBytes)
            virtual.set(to: Double(stat.virtualBytes))
            if let boot = (try? TextFile.read("/proc/stat")).flatMap(Self.bootTime) {
                startTime.set(to: boot + Double(stat.startTicks) / ticksPerSecond)
            }
        }
        if let limits = try? TextFile.read("/proc/self/limits") {
            if let n = Self.softLimit("Max open files", in: limits) { maxFDs.set(to: n) }
            if let n = Self.softLimit("Max address space", in: limits) { virtualMax.set(to: n) }
        }
        if let n = Self.entryCount("/proc/self/fd") { openFDs.set(to: Double(n)) }
    }

    /// `btime` of `/proc/stat`: the boot time in seconds since the epoch.
    static func bootTime(_ procStat: String) -> Double? {
        for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    /// The soft limit of a `/proc/PID/limits` row; `unlimited` is 2⁶⁴ − 1, as procfs reads it.
    static func softLimit(_ name: String, in limits: String) -> Double? {
        for line in limits.split(separator: "\n") where line.hasPrefix(name + " ") {
            guard let soft = line.dropFirst(name.count).split(separator: " ").first else { return nil }
            return soft == "unlimited" ? Double(UInt64.max) : Double(soft)
        }
        return nil
    }

    /// Entries of a directory besides `.` and `..` (the descriptor `opendir` holds is one of
    /// them, as in procfs' count).
    static func entryCount(_ path: String) -> Int? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var n = 0
        while let entry = readdir(dir) {
            let dot = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] == 0x2E && ($0[1] == 0 || $0[1] == 0x2E && $0[2] == 0) }
            if !dot { n += 1 }
        }
        return n
    }
}
