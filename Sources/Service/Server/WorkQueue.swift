#if canImport(Glibc)
import Glibc
#endif

/// A few plain threads for blocking work that must stay off the event loops (the blocking
/// object-store backends: write, fsync, rename). A mutex and a condition variable: this is
/// the cold path, one job per segment flush, never per Push.
final class WorkQueue<Job: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [Job] = []
    private var head = 0
    private var stopping = false
    private var threads: [pthread_t] = []
    private let work: @Sendable (Job) -> Void

    init(threads count: Int, work: @escaping @Sendable (Job) -> Void) {
        precondition(count > 0, "a work queue needs a thread")
        self.work = work
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        threads = (0 ..< count).map { _ in Self.spawn(self) }
    }

    private static func spawn(_ queue: WorkQueue) -> pthread_t {
        startThread { queue.run() }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func submit(_ job: Job) {
        pthread_mutex_lock(mutex)
        precondition(!stopping, "work submitted after stop")
        jobs.append(job)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Runs what is queued, then ends the threads and waits for them.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func run() {
        while let job = take() { work(job) }
    }

    private func take() -> Job? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == jobs.count && !stopping { pthread_cond_wait(condition, mutex) }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }
}

/// What a started thread runs (non-generic: the C entry point cannot capture generics).
private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return thread
}
