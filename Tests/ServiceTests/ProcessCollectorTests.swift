import Testing
@testable import SegmentWriterService

/// The `/proc` files behind `process_max_fds`, `process_virtual_memory_max_bytes` and
/// `process_start_time_seconds`, read as procfs (client_golang's source) reads them.
@Suite struct ProcessCollectorTests {
    static let limits = """
        Limit                     Soft Limit           Hard Limit           Units     
        Max cpu time              unlimited            unlimited            seconds   
        Max open files            3000                 6000                 files     
        Max address space         unlimited            unlimited            bytes     
        Max msgqueue size         819200               819200               bytes     

        """

    @Test func softLimitsAreTheSecondColumnAndUnlimitedIsAllOnes() {
        #expect(ProcessCollector.softLimit("Max open files", in: Self.limits) == 3000)
        #expect(ProcessCollector.softLimit("Max address space", in: Self.limits) == Double(UInt64.max))
        #expect(ProcessCollector.softLimit("Max processes", in: Self.limits) == nil)
    }

    @Test func bootTimeIsTheBtimeLine() {
        let stat = "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5 6\nctxt 789\nbtime 1795736571\nprocesses 42\n"
        #expect(ProcessCollector.bootTime(stat) == 1_795_736_571)
        #expect(ProcessCollector.bootTime("cpu 1 2 3\n") == nil)
    }

    @Test func entriesOfADirectoryLeaveOutDotAndDotDot() {
        #expect(ProcessCollector.entryCount("/proc/self/fd").map { $0 >= 3 } == true)  // stdin, stdout, stderr
        #expect(ProcessCollector.entryCount("/nonexistent-directory") == nil)
    }
}
