import CShims
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps an IAM source's credentials current in an `AWSCredentialsProvider`, from a thread of
/// its own (a fetch blocks on the network, which a loop must not). The next fetch is due once
/// 80 % of the credentials' lifetime has passed, or 5 minutes before they expire if that is
/// earlier, but not before half of it (short-lived ones are used too). A failed fetch keeps the
/// current credentials, is logged, and is tried again after 1 s, doubling up to a minute.
public final class AWSCredentialsRefresher: Sendable {
    public let provider: AWSCredentialsProvider
    public let source: AWSIAMSource
    private let fetch: @Sendable () throws(AWSIAMError) -> AWSTemporaryCredentials
    private let warn: @Sendable (String, KeyValuePairs<String, String>) -> Void
    private let schedule: Mutex<(nextFetchMs: Int64, failures: Int)>
    private let stopping = Atomic<Bool>(false)
    private let wakeFD: Int32
    private let thread = Mutex<OSThread?>(nil)

    /// Each fetch after the first gets this long (the first has start-up's deadline).
    static let refreshTimeoutMs = 10_000
    static let retryDelayMsMax: Int64 = 60_000

    /// Fetches from `client` once, within `timeoutMs` (failing start-up when that fails), then
    /// refreshes on a new thread until `stop()`.
    public static func start(client: AWSIAMClient, timeoutMs: Int,
                             warn: @escaping @Sendable (String, KeyValuePairs<String, String>) -> Void) throws(AWSIAMError) -> AWSCredentialsRefresher {
        let first = try client.fetch(timeoutMs: timeoutMs)
        let refresher = AWSCredentialsRefresher(source: client.source, first: first, nowMs: wallClockMs,
                                                fetch: { () throws(AWSIAMError) in try client.fetch(timeoutMs: refreshTimeoutMs) }, warn: warn)
        refresher.run()
        return refresher
    }

    /// `first`, fetched at `nowMs`, signs until `step` replaces it; nothing runs until `run()`.
    init(source: AWSIAMSource, first: AWSTemporaryCredentials, nowMs: Int64,
         fetch: @escaping @Sendable () throws(AWSIAMError) -> AWSTemporaryCredentials,
         warn: @escaping @Sendable (String, KeyValuePairs<String, String>) -> Void) {
        provider = AWSCredentialsProvider(first.credentials)
        self.source = source
        self.fetch = fetch
        self.warn = warn
        schedule = Mutex((Self.refreshAtMs(obtainedAtMs: nowMs, expirationMs: first.expirationMs), 0))
        wakeFD = cshim_eventfd_create()
        precondition(wakeFD >= 0, "eventfd failed: \(errno)")
    }

    deinit { close(wakeFD) }

    /// When credentials obtained at `obtainedAtMs` and expiring at `expirationMs` are fetched again.
    static func refreshAtMs(obtainedAtMs: Int64, expirationMs: Int64) -> Int64 {
        let lifetimeMs = max(0, expirationMs - obtainedAtMs)
        let earlier = min(lifetimeMs - lifetimeMs / 5, lifetimeMs - 300_000)
        return obtainedAtMs + max(earlier, lifetimeMs / 2, 1_000)
    }

    /// 1 s after the first failure in a row, doubling, at most a minute.
    static func retryDelayMs(failures: Int) -> Int64 {
        min(retryDelayMsMax, 1_000 << Int64(min(failures - 1, 6)))
    }

    /// One turn of the refresh thread at wall time `nowMs`: fetches if due. Returns when the next
    /// fetch is due.
    func step(nowMs: Int64) -> Int64 {
        let due = schedule.withLock { $0.nextFetchMs }
        guard nowMs >= due else { return due }
        do {
            let fresh = try fetch()
            provider.replace(with: fresh.credentials)
            let next = Self.refreshAtMs(obtainedAtMs: nowMs, expirationMs: fresh.expirationMs)
            schedule.withLock { $0 = (next, 0) }
            return next
        } catch {
            let failures = schedule.withLock { $0.failures += 1; return $0.failures }
            let next = nowMs + Self.retryDelayMs(failures: failures)
            schedule.withLock { $0.nextFetchMs = next }
            warn("s3 credentials refresh failed, the current ones are kept",
                 ["source": source.name, "err": "\(error)", "retry_in_ms": String(next - nowMs)])
            return next
        }
    }

    func run() {
        let spawned = OSThread.spawn { [self] in
            while !stopping.load(ordering: .sequentiallyConsistent) {
                let now = Self.wallClockMs
                let next = step(nowMs: now)
                // At most a minute at a time: the wall clock may jump (a suspended host).
                var wake = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&wake, 1, Int32(clamping: min(max(next - now, 1), Self.retryDelayMsMax)))
            }
        }
        precondition(spawned != nil, "cannot start the s3 credentials refresh thread")
        thread.withLock { $0 = spawned }
    }

    /// Ends the refresh thread (a fetch in flight finishes first, within its timeout).
    public func stop() {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        _ = cshim_eventfd_signal(wakeFD)
        thread.withLock { $0?.join() }
    }

    static var wallClockMs: Int64 { EventLoop.realtimeNowNs / 1_000_000 }
}
