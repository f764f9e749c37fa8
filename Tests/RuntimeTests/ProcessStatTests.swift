import Foundation
import Runtime
import Testing

@Suite struct ProcessStatTests {
    @Test func fieldsAreCountedAfterTheLastParenthesisOfTheCommand() throws {
        // A command name with spaces and parentheses, as `comm` may hold (proc(5)).
        let line = "4242 (seg (writer) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 150 0 0 20 0 3 0 987654 123456789 2500 18446744073709551615 1 2\n"
        let stat = try #require(ProcessStat.parse(line))
        #expect(stat == ProcessStat(userTicks: 250, systemTicks: 150, startTicks: 987_654, virtualBytes: 123_456_789, residentPages: 2500))
    }

    @Test func aTruncatedOrForeignLineIsNil() {
        #expect(ProcessStat.parse("4242 (segment-writer) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250") == nil)
        #expect(ProcessStat.parse("MemTotal: 1000 kB") == nil)
        #expect(ProcessStat.parse("4242 (w) S 1 2 3 4 5 6 7 8 9 10 x 150 0 0 20 0 3 0 1 2 3 4") == nil)
    }

    @Test func thisProcessReadsBack() throws {
        let text = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        let stat = try #require(ProcessStat.parse(text))
        #expect(stat.residentPages > 0 && stat.virtualBytes > stat.residentPages && stat.startTicks > 0)
    }
}
