import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The blocking stores driven from threads beside a loop, for hosts that refuse io_uring (the
/// container runtimes' default seccomp profiles): a loop never waits for a disk's fsync or an S3
/// round trip, it goes on reading Pushes while its segments upload. Each of `workers` threads
/// owns a blocking store of its own (the S3 one keeps connections, not shareable between
/// threads); a put or get goes to the worker with the fewest requests in flight, so a hedged
/// upload runs beside its primary. The completion is posted back to the loop and runs there,
/// as a loop-driven store's does.
///
/// `cancelPuts` ends the puts of a path: one not started yet completes `StorageError.cancelled`
/// without touching the store; one running on an `InterruptibleObjectStore` (S3) has its socket
/// shut down and completes `cancelled` at once; one running on another store (the filesystem's,
/// which cannot hang on a peer) ends on its own and completes with its outcome.
public final class OffloadedObjectStore: ObjectStore {
    private let loop: EventLoop
    private let workers: [Worker]
    /// Per worker, requests given and not completed yet (loop-confined).
    private var inFlight: [Int]
    /// Puts not completed yet, by path (loop-confined), for `cancelPuts`.
    private var pending: [String: [Cancellation]] = [:]

    /// `makeStore` is called once per worker, here.
    public init(loop: EventLoop, workers count: Int = 2, makeStore: () throws(StorageError) -> any ObjectStore) throws(StorageError) {
        precondition(count > 0, "an offloaded store needs a worker")
        self.loop = loop
        var workers: [Worker] = []
        for _ in 0 ..< count { workers.append(try Worker(store: makeStore())) }
        self.workers = workers
        inFlight = Array(repeating: 0, count: count)
    }

    deinit {
        for worker in workers { worker.stop() }
    }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        let cancellation = Cancellation()
        pending[path, default: []].append(cancellation)
        run(cancellation: cancellation) { store, done in
            guard !cancellation.isCancelled else { return done(.failure(.cancelled)) }
            store.put(path, bytes) { done($0) }
        } completion: { [self] (result: Result<Void, StorageError>) in
            pending[path]?.removeAll { $0 === cancellation }
            if pending[path]?.isEmpty == true { pending[path] = nil }
            completion(result)
        }
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        run({ store, done in store.get(path) { done($0) } }, completion: completion)
    }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        run({ store, done in store.checkHealth { done($0) } }, completion: completion)
    }

    public func cancelPuts(_ path: String) {
        for cancellation in pending[path] ?? [] {
            cancellation.cancel()
            for worker in workers { worker.interrupt(ifRunning: cancellation) }
        }
    }

    /// Runs `work` on the least busy worker and `completion` with its result on the loop.
    private func run<T>(cancellation: Cancellation? = nil,
                        _ work: @escaping @Sendable (any ObjectStore, @escaping (Result<T, StorageError>) -> Void) -> Void,
                        completion: @escaping (Result<T, StorageError>) -> Void) {
        let index = inFlight.indices.min { inFlight[$0] < inFlight[$1] }!
        inFlight[index] += 1
        let loop = self.loop
        let answer = UncheckedSendable { [self] (result: Result<T, StorageError>) in
            inFlight[index] -= 1
            completion(result)
        }
        workers[index].enqueue(cancellation) { store in
            work(store) { result in
                let delivered = UncheckedSendable(result)
                // The loop's inbox is bounded: wait for room rather than lose a completion
                // (a loop that exited runs nothing more).
                while !loop.post({ answer.value(delivered.value) }), !loop.hasExited { usleep(1000) }
            }
        }
    }
}

/// A put's cancellation flag, set on the loop and read by the worker before it starts.
private final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .acquiring) }
    func cancel() { flag.store(true, ordering: .releasing) }
}

/// A value a loop hands to a worker and gets back, never used by both at once.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One thread and the blocking store only it uses: jobs in order, woken through a pipe.
private final class Worker: @unchecked Sendable {
    typealias Job = (cancellation: Cancellation?, run: @Sendable (any ObjectStore) -> Void)
    private let store: any ObjectStore
    /// The same store when another thread may interrupt its request (its methods for that are
    /// thread-safe).
    private let interruptible: (any InterruptibleObjectStore)?
    private let jobs = Mutex<[Job]>([])
    /// The cancellation of the put running now; `interrupt(ifRunning:)` and the switch to the
    /// next job take this lock, so an interruption never reaches another put.
    private let running = Mutex<Cancellation?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let wake: (read: Int32, write: Int32)
    private let thread = Mutex<OSThread?>(nil)

    init(store: any ObjectStore) throws(StorageError) {
        self.store = store
        interruptible = store as? any InterruptibleObjectStore
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .transport("pipe for a storage worker: \(Errno(rawValue: errno))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wake = (fds[0], fds[1])
        guard let spawned = OSThread.spawn({ [self] in serve() }) else {
            close(fds[0])
            close(fds[1])
            throw .transport("no thread for a storage worker")
        }
        thread.withLock { $0 = spawned }
    }

    func enqueue(_ cancellation: Cancellation?, _ job: @escaping @Sendable (any ObjectStore) -> Void) {
        jobs.withLock { $0.append((cancellation, job)) }
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)
    }

    /// Ends the request of the put `cancellation` belongs to, if it is the one running.
    func interrupt(ifRunning cancellation: Cancellation) {
        running.withLock { running in
            if running === cancellation { interruptible?.interruptRequest() }
        }
    }

    /// Lets the jobs already queued run, then ends the thread.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)
        thread.withLock { $0?.join() }
        close(wake.read)
        close(wake.write)
    }

    private func serve() {
        var byte: UInt8 = 0
        while true {
            let next = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            if let next {
                running.withLock { running in
                    running = next.cancellation
                    interruptible?.clearInterruption()
                }
                next.run(store)
                running.withLock { $0 = nil }
                continue
            }
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            _ = read(wake.read, &byte, 1)
        }
    }
}
