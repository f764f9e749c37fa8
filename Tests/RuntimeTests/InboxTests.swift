@testable import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized)
struct InboxTests {
    @Test func queueCapacityRoundsUpAndRefusesWhenFull() {
        let queue = MPSCQueue<Int>(capacity: 5)
        #expect(queue.capacity == 8)
        for value in 0..<8 { #expect(queue.enqueue(value)) }
        #expect(!queue.enqueue(8))
        #expect(queue.dequeue() == 0)
        #expect(queue.enqueue(8))
        var drained: [Int] = []
        while let value = queue.dequeue() { drained.append(value) }
        #expect(drained == Array(1...8))
        #expect(queue.dequeue() == nil)
    }

    @Test func inboxRefusesWhenFullAndDeliversOnceStarted() throws {
        let loop = try EventLoop(index: 0)
        let received = Recorder<Int>()
        let inbox = Inbox<Int>(loop: loop, capacity: 8) { received.append($0) }
        for value in 0..<8 { #expect(inbox.post(value)) }
        #expect(!inbox.post(8), "a full inbox must refuse, not block or grow")
        loop.start()
        #expect(waitUntil { received.values.count == 8 })
        #expect(inbox.post(8))
        #expect(waitUntil { received.values.count == 9 })
        loop.requestStop()
        loop.join()
        #expect(received.values == Array(0...8))
        #expect(!inbox.post(9), "an exited loop must refuse")
    }

    @Test func crossLoopInboxDeliversEveryItemExactlyOnceUnderContention() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let target = group.loops[1]
        let seen = LoopConfined<[UInt64]>([])
        let inbox = Inbox<UInt64>(loop: target, capacity: 64) { seen.value.append($0) }
        group.start()

        let producers = 4
        let itemsPerProducer = 20_000
        let refusals = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        // Producers: loop 0 (a real cross-loop post) and three plain threads.
        let produce: @Sendable (UInt64) -> Void = { producer in
            for item in 0..<UInt64(itemsPerProducer) {
                while !inbox.post(producer << 32 | item) {
                    refusals.add(1, ordering: .relaxed)
                    sched_yield()
                }
            }
            done.add(1, ordering: .releasing)
        }
        #expect(group.loops[0].post { produce(0) })
        let threads = (1..<UInt64(producers)).map { producer in TestThread { produce(producer) } }
        for thread in threads { thread.join() }
        #expect(waitUntil { done.load(ordering: .acquiring) == producers })
        group.shutdown()  // the target drains what is left before exiting

        let values = seen.value
        #expect(values.count == producers * itemsPerProducer)
        var next = [UInt64](repeating: 0, count: producers)
        var inOrder = true
        for value in values {
            let producer = Int(value >> 32)
            if value & 0xFFFF_FFFF != next[producer] { inOrder = false }
            next[producer] += 1
        }
        #expect(inOrder, "each producer's items arrive once, in the order posted")
        #expect(next == [UInt64](repeating: UInt64(itemsPerProducer), count: producers))
        // With a 64-slot inbox and four producers the inbox must have filled at least once.
        #expect(refusals.load(ordering: .relaxed) > 0)
    }

    @Test func jobsRunOnTheLoopsPinnedThread() throws {
        let group = try EventLoopGroup(loopCount: 2)
        group.start()
        let observed = Recorder<String>()
        for loop in group.loops {
            #expect(!loop.isInLoop)
            #expect(loop.post {
                let others = group.loops.filter { $0 !== loop }
                observed.append("\(loop.index): \(loop.isInLoop) \(others.allSatisfy { !$0.isInLoop })")
            })
        }
        #expect(waitUntil { observed.values.count == 2 })
        #expect(observed.values.sorted() == ["0: true true", "1: true true"])
        #expect(group.loops.allSatisfy { $0.pinnedCPU != nil })
        group.shutdown()
    }

    @Test func stopRunsEveryJobPostedBeforeIt() throws {
        let loop = try EventLoop(index: 0)
        let ran = Atomic<Int>(0)
        loop.start()
        var accepted = 0
        for _ in 0..<1000 where loop.post({ ran.add(1, ordering: .relaxed) }) { accepted += 1 }
        loop.requestStop()
        loop.join()
        #expect(accepted == 1000)
        #expect(ran.load(ordering: .relaxed) == 1000)
        #expect(!loop.post {})
    }
}

/// A value touched only on one loop's thread while it runs and read after `join`.
final class LoopConfined<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
