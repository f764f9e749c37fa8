import Synchronization

/// A bounded, lock-free multi-producer single-consumer queue (Dmitry Vyukov's
/// bounded queue: one sequence number per cell). Capacity is fixed at creation
/// and rounded up to a power of two; `enqueue` returns false when full instead of
/// blocking or growing.
///
/// Thread confinement: any thread may `enqueue`; only one thread (the owning
/// loop) may `dequeue`. Hence `@unchecked Sendable`.
public final class MPSCQueue<Element: Sendable>: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let sequences: UnsafeMutablePointer<Atomic<Int>>
    private let elements: UnsafeMutablePointer<Element>
    private let enqueuePosition = Atomic<Int>(0)
    /// Touched only by the consumer.
    private var dequeuePosition = 0

    public init(capacity requested: Int) {
        precondition(requested > 0 && requested <= 1 << 30, "MPSCQueue capacity out of range")
        var capacity = 1
        while capacity < requested { capacity <<= 1 }
        self.capacity = capacity
        self.mask = capacity - 1
        sequences = .allocate(capacity: capacity)
        for index in 0..<capacity {
            (sequences + index).initialize(to: Atomic(index))
        }
        elements = .allocate(capacity: capacity)
    }

    deinit {
        while dequeue() != nil {}
        sequences.deinitialize(count: capacity)
        sequences.deallocate()
        elements.deallocate()
    }

    /// Any thread. False when the queue is full; the element is then not consumed.
    public func enqueue(_ element: consuming Element) -> Bool {
        var position = enqueuePosition.load(ordering: .relaxed)
        while true {
            let cell = position & mask
            let sequence = sequences[cell].load(ordering: .acquiring)
            let lag = sequence &- position
            if lag == 0 {
                let (exchanged, current) = enqueuePosition.compareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if exchanged {
                    (elements + cell).initialize(to: element)
                    sequences[cell].store(position &+ 1, ordering: .releasing)
                    return true
                }
                position = current
            } else if lag < 0 {
                return false
            } else {
                position = enqueuePosition.load(ordering: .relaxed)
            }
        }
    }

    /// Consumer thread only. Nil when empty (or when the next producer has
    /// claimed its cell but not yet published; it wakes the consumer afterwards).
    public func dequeue() -> Element? {
        let position = dequeuePosition
        let cell = position & mask
        let sequence = sequences[cell].load(ordering: .acquiring)
        guard sequence == position &+ 1 else { return nil }
        dequeuePosition = position &+ 1
        let element = (elements + cell).move()
        sequences[cell].store(position &+ mask &+ 1, ordering: .releasing)
        return element
    }
}
