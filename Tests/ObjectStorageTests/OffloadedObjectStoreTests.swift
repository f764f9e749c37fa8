@testable import ObjectStorage
import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A blocking store whose puts take `delayMs` (a disk's fsync, an S3 round trip).
private final class SlowStore: ObjectStore {
    let delayMs: UInt32
    let outcomes: Outcomes

    init(delayMs: UInt32, _ outcomes: Outcomes) {
        self.delayMs = delayMs
        self.outcomes = outcomes
    }

    func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        usleep(delayMs * 1000)
        outcomes.add("stored \(path)")
        completion(.success(()))
    }

    func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) { completion(.success([7])) }
    func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) { completion(.success(())) }
}

/// The loop's state for one test (touched on the loop only).
private final class LoopState: @unchecked Sendable {
    var store: OffloadedObjectStore?
    var left = 0
}

/// The blocking stores on worker threads (`OffloadedObjectStore`): what a loop uses when the
/// host refuses io_uring.
@Suite(.serialized) struct OffloadedObjectStoreTests {
    @Test func putsRunBesideTheLoopAndCompleteOnIt() throws {
        let outcomes = Outcomes()
        let ticks = Atomic<Int>(0), tookMs = Atomic<UInt64>(0)
        let state = LoopState()
        try onLoop { loop, done in
            let store = try! OffloadedObjectStore(loop: loop) { SlowStore(delayMs: 300, outcomes) }
            state.store = store
            let timer = loop.scheduleTimer(afterMs: 10, repeatingEveryMs: 10) { _ in ticks.add(1, ordering: .relaxed) }
            let startNs = EventLoop.monotonicNowNs
            state.left = 2
            for path in ["a", "b"] {
                store.put(path, [1]) { result in
                    outcomes.add("\(path) \(result) on the loop \(loop.isInLoop)")
                    state.left -= 1
                    guard state.left == 0 else { return }
                    tookMs.store((EventLoop.monotonicNowNs - startNs) / 1_000_000, ordering: .relaxed)
                    _ = loop.cancelTimer(timer)
                    state.store = nil
                    done()
                }
            }
        }
        let lines = outcomes.all
        #expect(Set(lines) == ["stored a", "stored b", "a success() on the loop true", "b success() on the loop true"])
        // Two workers: the puts ran side by side, and the loop's timer kept firing meanwhile.
        #expect(tookMs.load(ordering: .relaxed) < 550)
        #expect(ticks.load(ordering: .relaxed) >= 15)
    }

    @Test func aPutNotStartedYetIsCancelledWithoutReachingTheStore() throws {
        let outcomes = Outcomes()
        let state = LoopState()
        try onLoop { loop, done in
            let store = try! OffloadedObjectStore(loop: loop, workers: 1) { SlowStore(delayMs: 200, outcomes) }
            state.store = store
            state.left = 2
            for path in ["a", "b"] {
                store.put(path, [1]) { result in
                    outcomes.add("\(path) \(result)")
                    state.left -= 1
                    if state.left == 0 { state.store = nil; done() }
                }
            }
            store.cancelPuts("b") // queued behind "a" on the only worker
        }
        #expect(outcomes.all == ["stored a", "a success()", "b failure(ObjectStorage.StorageError.cancelled)"])
    }
}
