import Runtime
import Synchronization

/// The endpoint's addresses as a `RingS3ObjectStore` connects to them: taken in turn, a failed
/// connect moving on to the next one, and resolved again when they look stale. In Kubernetes a
/// MinIO/S3 name's addresses change when its pods move; a list resolved once would fail every
/// upload (and the DLQ fallback, same bucket) until a restart.
///
/// When to resolve again: after a failed connect, once every address of the current list has
/// failed since the last successful connect, or once the list is older than `maxAgeNs` (30 s; one
/// dead address among live ones is then dropped too). At most one resolution is in flight, and
/// one starts at most every `refreshIntervalMinNs` (1 s), so an endpoint that is down for good
/// costs one lookup per second per loop, not one per retry.
///
/// How: getaddrinfo blocks (seconds when DNS is slow or down), so it runs on a short-lived
/// detached thread, never on the loop; that thread leaves the result in a mutex-guarded slot and
/// the loop takes it before its next connect. Until then connects go on with the old list, so
/// a retry may still fail once more, but the loop never waits for DNS. A resolution that fails
/// keeps the old list. Confined to the store's loop, except the slot.
final class EndpointAddressList {
    static let maxAgeNs: UInt64 = 30_000_000_000
    static let refreshIntervalMinNs: UInt64 = 1_000_000_000

    let host: String
    let port: Int
    private let resolver: EndpointResolver
    private let clockNs: () -> UInt64
    private(set) var addresses: [EndpointAddress]
    private var nextIndex = 0
    /// Addresses (by text) whose connect failed since the last successful connect.
    private var failed: Set<String> = []
    private var resolvedAtNs: UInt64
    private var refreshStartedNs: UInt64?
    private var refreshInFlight: ResolutionSlot?

    /// Resolves `host` once, now (start-up: a name that does not resolve is a configuration
    /// error). `clockNs` is the loops' monotonic clock (tests: one they move).
    init(host: String, port: Int, resolver: @escaping EndpointResolver,
         clockNs: @escaping () -> UInt64 = { EventLoop.monotonicNowNs }) throws(StorageError) {
        self.host = host
        self.port = port
        self.resolver = resolver
        self.clockNs = clockNs
        addresses = try resolver(host, port)
        resolvedAtNs = clockNs()
    }

    /// A resolution started and the loop has not taken its list yet.
    var resolutionPending: Bool { refreshInFlight != nil }

    /// The address the next connection goes to (after taking a finished resolution's list).
    func next() -> EndpointAddress {
        takeFinishedRefresh()
        return addresses[nextIndex % addresses.count]
    }

    /// A connect succeeded: the list works, failures so far do not add up to a refresh.
    func connected() {
        failed.removeAll()
    }

    /// A connect to `endpoint` (an `EndpointAddress.description`) failed: the next connection
    /// tries the next address, and the list is resolved again when it looks stale.
    func connectFailed(_ endpoint: String) {
        nextIndex += 1
        failed.insert(endpoint)
        let nowNs = clockNs()
        let everyAddressFailed = addresses.allSatisfy { failed.contains($0.description) }
        guard everyAddressFailed || nowNs &- resolvedAtNs >= Self.maxAgeNs else { return }
        guard refreshInFlight == nil,
              refreshStartedNs.map({ nowNs &- $0 >= Self.refreshIntervalMinNs }) ?? true else { return }
        let slot = ResolutionSlot()
        let (resolver, host, port) = (self.resolver, self.host, self.port)
        guard let thread = OSThread.spawn({ slot.fill(Result { () throws(StorageError) in try resolver(host, port) }) }) else { return }
        thread.detach()
        refreshInFlight = slot
        refreshStartedNs = nowNs
    }

    private func takeFinishedRefresh() {
        guard let slot = refreshInFlight, let result = slot.finished else { return }
        refreshInFlight = nil
        guard case .success(let fresh) = result, !fresh.isEmpty else { return }
        addresses = fresh
        nextIndex = 0
        failed.removeAll()
        resolvedAtNs = clockNs()
    }
}

/// Where the resolving thread leaves its result for the loop.
private final class ResolutionSlot: Sendable {
    private let result = Mutex<Result<[EndpointAddress], StorageError>?>(nil)

    func fill(_ value: Result<[EndpointAddress], StorageError>) { result.withLock { $0 = value } }

    var finished: Result<[EndpointAddress], StorageError>? { result.withLock { $0 } }
}
