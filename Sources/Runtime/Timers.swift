/// Names a scheduled timer so it can be cancelled. Valid only on the loop that issued it.
public struct TimerID: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}

/// The loop's timers: a slot table (callbacks, intervals) plus a binary min-heap
/// of deadlines, driven by the epoll_wait timeout. Both are sized at start-up
/// (`timersMax`), so scheduling never allocates. Cancellation bumps the slot's
/// generation; stale heap entries are skipped when they surface.
///
/// Confined to its loop's thread.
struct TimerTable {
    private struct Slot {
        var generation: UInt32 = 0
        var fire: ((EventLoop) -> Void)? = nil
        var intervalNs: UInt64 = 0
    }

    private struct Entry {
        var deadlineNs: UInt64
        /// Ties on the deadline fire in scheduling order.
        var sequence: UInt64
        var slot: UInt32
        var generation: UInt32

        func firesBefore(_ other: Entry) -> Bool {
            (deadlineNs, sequence) < (other.deadlineNs, other.sequence)
        }
    }

    let timersMax: Int
    private var slots: [Slot]
    private var freeSlots: [UInt32]
    private var heap: [Entry]
    private var nextSequence: UInt64 = 0

    init(timersMax: Int) {
        precondition(timersMax > 0 && timersMax < Int(UInt32.max), "timersMax out of range")
        self.timersMax = timersMax
        slots = Array(repeating: Slot(), count: timersMax)
        freeSlots = (0..<UInt32(timersMax)).reversed()
        heap = []
        // Cancelled entries can linger in the heap until they surface; at most
        // one live entry per slot plus the stale ones, bounded by 2 × timersMax
        // because `schedule` prunes when the heap is that full.
        heap.reserveCapacity(2 * timersMax)
    }

    var activeCount: Int { timersMax - freeSlots.count }

    mutating func schedule(
        nowNs: UInt64, delayNs: UInt64, intervalNs: UInt64, fire: @escaping (EventLoop) -> Void
    ) -> TimerID {
        guard let slot = freeSlots.popLast() else {
            preconditionFailure("more than timersMax (\(timersMax)) timers scheduled")
        }
        slots[Int(slot)].fire = fire
        slots[Int(slot)].intervalNs = intervalNs
        let generation = slots[Int(slot)].generation
        if heap.count == heap.capacity { pruneCancelled() }
        push(Entry(deadlineNs: nowNs &+ delayNs, sequence: nextSequence, slot: slot, generation: generation))
        nextSequence &+= 1
        return TimerID(slot: slot, generation: generation)
    }

    /// True when the timer was live (it will not fire again).
    @discardableResult
    mutating func cancel(_ id: TimerID) -> Bool {
        guard Int(id.slot) < slots.count, slots[Int(id.slot)].generation == id.generation,
              slots[Int(id.slot)].fire != nil
        else { return false }
        release(id.slot)
        return true
    }

    mutating func cancelAll() {
        for slot in 0..<UInt32(slots.count) where slots[Int(slot)].fire != nil {
            release(slot)
        }
        heap.removeAll(keepingCapacity: true)
    }

    /// Milliseconds until the earliest live deadline (rounded up), nil when none.
    mutating func timeoutMs(nowNs: UInt64) -> Int32? {
        dropStaleTop()
        guard let first = heap.first else { return nil }
        guard first.deadlineNs > nowNs else { return 0 }
        let ms = (first.deadlineNs - nowNs + 999_999) / 1_000_000
        return Int32(clamping: ms)
    }

    /// Pops the earliest timer whose deadline has passed, re-arming it if it
    /// repeats; returns the callback to run. Callers loop until nil.
    mutating func popExpired(nowNs: UInt64) -> ((EventLoop) -> Void)? {
        dropStaleTop()
        guard var entry = heap.first, entry.deadlineNs <= nowNs else { return nil }
        popTop()
        let slot = slots[Int(entry.slot)]
        guard let fire = slot.fire else { return nil }
        if slot.intervalNs > 0 {
            // Fixed-rate ticks; after a stall, skip the missed ones rather than burst.
            entry.deadlineNs &+= slot.intervalNs
            if entry.deadlineNs <= nowNs { entry.deadlineNs = nowNs &+ slot.intervalNs }
            entry.sequence = nextSequence
            nextSequence &+= 1
            push(entry)
        } else {
            release(entry.slot)
        }
        return fire
    }

    private mutating func release(_ slot: UInt32) {
        slots[Int(slot)].fire = nil
        slots[Int(slot)].generation &+= 1
        freeSlots.append(slot)
    }

    private func isLive(_ entry: Entry) -> Bool {
        let slot = slots[Int(entry.slot)]
        return slot.generation == entry.generation && slot.fire != nil
    }

    private mutating func dropStaleTop() {
        while let first = heap.first, !isLive(first) { popTop() }
    }

    private mutating func pruneCancelled() {
        let live = heap.filter { isLive($0) }
        heap.removeAll(keepingCapacity: true)
        for entry in live { push(entry) }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].firesBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].firesBefore(heap[smallest]) { smallest = left }
            if right < heap.count, heap[right].firesBefore(heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
