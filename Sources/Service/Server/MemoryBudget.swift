import GRPC
import Synchronization

/// `-segment-writer.memory-budget-bytes`: messages still arriving in pieces, message copies
/// waiting in inboxes, accumulated data and segment objects waiting for upload, across all
/// loops. A Push that would cross it is refused with RESOURCE_EXHAUSTED instead of growing
/// memory without bound.
final class MemoryBudget: GRPCReceiveBudget {
    let bytesMax: Int
    private let used = Atomic<Int>(0)

    init(bytesMax: Int) {
        precondition(bytesMax > 0, "memory budget must be positive")
        self.bytesMax = bytesMax
    }

    var usedBytes: Int { used.load(ordering: .relaxed) }

    /// Charges `bytes` unless that would cross the budget.
    func tryReserve(_ bytes: Int) -> Bool { reserve(atLeast: bytes, upTo: bytes) != nil }

    func reserve(atLeast minimum: Int, upTo maximum: Int) -> Int? {
        precondition(0 <= minimum && minimum <= maximum, "a reservation range out of order")
        var current = used.load(ordering: .relaxed)
        while true {
            let granted = min(maximum, bytesMax - current)
            guard granted >= minimum else { return nil }
            let (done, seen) = used.compareExchange(expected: current, desired: current + granted, ordering: .relaxed)
            if done { return granted }
            current = seen
        }
    }

    /// Charges growth that already happened (accumulated data), even past the budget.
    func charge(_ bytes: Int) { used.add(bytes, ordering: .relaxed) }

    func release(_ bytes: Int) {
        let after = used.subtract(bytes, ordering: .relaxed).newValue
        precondition(after >= 0, "memory budget released more than was charged")
    }
}
