@testable import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized)
struct TimerTests {
    @Test func timerTableFiresInDeadlineThenSchedulingOrder() throws {
        let loop = try EventLoop(index: 0)
        var table = TimerTable(timersMax: 8)
        let fired = Recorder<Int>()
        _ = table.schedule(nowNs: 0, delayNs: 30, intervalNs: 0) { _ in fired.append(30) }
        _ = table.schedule(nowNs: 0, delayNs: 10, intervalNs: 0) { _ in fired.append(10) }
        _ = table.schedule(nowNs: 0, delayNs: 20, intervalNs: 0) { _ in fired.append(20) }
        _ = table.schedule(nowNs: 0, delayNs: 10, intervalNs: 0) { _ in fired.append(11) }
        let cancelled = table.schedule(nowNs: 0, delayNs: 5, intervalNs: 0) { _ in fired.append(5) }
        #expect(cancel(&table, cancelled))
        #expect(!cancel(&table, cancelled))
        #expect(timeout(&table, at: 0) == 1)  // 10 ns rounds up to 1 ms
        #expect(!fires(&table, at: 9))
        var callbacks: [(EventLoop) -> Void] = []
        while let fire = table.popExpired(nowNs: 30) { callbacks.append(fire) }
        for fire in callbacks { fire(loop) }
        #expect(fired.values == [10, 11, 20, 30])
        #expect(table.activeCount == 0)
        #expect(timeout(&table, at: 30) == nil)
    }

    @Test func timerTableRepeatsAtFixedRateAndSkipsMissedTicks() {
        var table = TimerTable(timersMax: 2)
        let id = table.schedule(nowNs: 0, delayNs: 100, intervalNs: 100) { _ in }
        #expect(fires(&table, at: 100))
        #expect(!fires(&table, at: 100))
        #expect(timeout(&table, at: 100) == 1)
        #expect(fires(&table, at: 200))
        // Stalled past several ticks: fires once, next tick one interval from now.
        #expect(fires(&table, at: 750))
        #expect(!fires(&table, at: 750))
        #expect(!fires(&table, at: 849))
        #expect(fires(&table, at: 850))
        #expect(cancel(&table, id))
        #expect(!fires(&table, at: 10_000))
        #expect(table.activeCount == 0)
    }

    @Test func cancelledSlotsAreReusedWithoutGrowingTheHeap() {
        var table = TimerTable(timersMax: 4)
        for round in 0..<1000 {
            let id = table.schedule(nowNs: UInt64(round), delayNs: 1_000_000, intervalNs: 0) { _ in }
            #expect(cancel(&table, id))
        }
        #expect(table.activeCount == 0)
        #expect(timeout(&table, at: 0) == nil)
    }

    @Test func loopTimersFireInOrderAndRepeat() throws {
        let loop = try EventLoop(index: 0)
        let fired = Recorder<String>()
        let ticks = Atomic<Int>(0)
        loop.scheduleTimer(afterMs: 60) { _ in fired.append("60") }
        loop.scheduleTimer(afterMs: 20) { _ in fired.append("20a") }
        loop.scheduleTimer(afterMs: 40) { _ in fired.append("40") }
        loop.scheduleTimer(afterMs: 20) { _ in fired.append("20b") }
        let never = loop.scheduleTimer(afterMs: 10) { _ in fired.append("cancelled") }
        #expect(loop.cancelTimer(never))
        loop.scheduleTimer(afterMs: 5, repeatingEveryMs: 5) { loop in
            if ticks.add(1, ordering: .relaxed).newValue == 5 {
                fired.append("ticked 5 times")
            }
        }
        loop.start()
        #expect(waitUntil { fired.values.count == 5 })
        #expect(waitUntil { ticks.load(ordering: .relaxed) >= 8 })
        loop.requestStop()
        loop.join()
        let order = fired.values
        #expect(order.filter { $0 != "ticked 5 times" } == ["20a", "20b", "40", "60"])
        #expect(order.contains("ticked 5 times"))
    }

    @Test func repeatingTimerCanCancelItselfFromItsCallback() throws {
        let loop = try EventLoop(index: 0)
        let ticks = Atomic<Int>(0)
        let timer = Mutex<TimerID?>(nil)
        loop.start()
        #expect(loop.post {
            let id = loop.scheduleTimer(afterMs: 1, repeatingEveryMs: 1) { loop in
                if ticks.add(1, ordering: .relaxed).newValue == 3, let id = timer.withLock({ $0 }) {
                    loop.cancelTimer(id)
                }
            }
            timer.withLock { $0 = id }
        })
        #expect(waitUntil { ticks.load(ordering: .relaxed) == 3 })
        usleep(30_000)
        #expect(ticks.load(ordering: .relaxed) == 3)
        loop.requestStop()
        loop.join()
    }
}

/// Thread-safe append-only log for callbacks that run on loop threads.
final class Recorder<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])
    func append(_ value: Value) { storage.withLock { $0.append(value) } }
    var values: [Value] { storage.withLock { $0 } }
}

// Mutating calls cannot sit inside #expect.
private func fires(_ table: inout TimerTable, at nowNs: UInt64) -> Bool { table.popExpired(nowNs: nowNs) != nil }
private func timeout(_ table: inout TimerTable, at nowNs: UInt64) -> Int32? { table.timeoutMs(nowNs: nowNs) }
private func cancel(_ table: inout TimerTable, _ id: TimerID) -> Bool { table.cancel(id) }
