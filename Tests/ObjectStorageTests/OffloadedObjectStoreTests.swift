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

/// A TCP listener on 127.0.0.1 that accepts connections and never answers (an S3 that takes a
/// PUT and hangs).
private final class SilentServer: Sendable {
    let fd: Int32
    let port: Int
    private let accepted = Mutex<[Int32]>([])

    init() throws {
        // The runtime's listener, made blocking for this test's accept thread.
        let listener = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        fd = listener.socket.fileDescriptor
        port = Int(try listener.localPort)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        OSThread.spawn { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                accepted.withLock { $0.append(client) }
            }
        }?.detach()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for client in accepted.withLock({ $0 }) { close(client) }
    }
}

@Suite(.serialized) struct OffloadedInterruptionTests {
    /// An S3 PUT the store took and never answered, cancelled by the uploader (its timeout):
    /// the worker's socket is shut down, so the put completes `cancelled` at once instead of
    /// after the store's 5 s I/O timeout, and the worker is free for the next put.
    @Test func aHangingS3PutIsInterruptedByCancelPuts() throws {
        let server = try SilentServer()
        defer { server.stop() }
        let outcomes = Outcomes()
        let tookMs = Atomic<UInt64>(0)
        let state = LoopState()
        let configuration = S3Configuration(endpoint: "127.0.0.1:\(server.port)", bucketName: "b",
                                            credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"),
                                            insecure: true, ioTimeoutMs: 5_000)
        try onLoop { loop, done in
            let store = try! OffloadedObjectStore(loop: loop, workers: 1) { () throws(StorageError) in
                try S3ObjectStore(configuration: configuration)
            }
            state.store = store
            let startNs = EventLoop.monotonicNowNs
            store.put("segments/1/block.bin", [1, 2, 3]) { result in
                tookMs.store((EventLoop.monotonicNowNs - startNs) / 1_000_000, ordering: .relaxed)
                outcomes.add("\(result)")
                state.store = nil
                done()
            }
            loop.scheduleTimer(afterMs: 300) { _ in store.cancelPuts("segments/1/block.bin") }
        }
        #expect(outcomes.all == ["failure(ObjectStorage.StorageError.cancelled)"])
        #expect((300 ..< 1_500).contains(tookMs.load(ordering: .relaxed)), "ended by the cancel, not the 5 s I/O timeout")
    }
}
