import Synchronization

/// A host's addresses as a loop's client connects to them (the S3 store's endpoint, each
/// `-metastore.address` name): taken in turn, a failed connect moving on to the next one, and
/// resolved again when they look stale. In Kubernetes a Service's addresses change when its pods
/// move; a list resolved once would fail every call until a restart.
///
/// When to resolve again: after a failed connect, once every address of the current list has
/// failed since the last successful connect, or once the list is older than `maxAgeNs` (30 s; one
/// dead address among live ones is then dropped too); and whenever the list is empty (the name
/// did not resolve yet) and the client asks. At most one resolution is in flight, and one starts
/// at most every `refreshIntervalMinNs` (1 s), so a name that is down for good costs one lookup
/// per second per loop, not one per retry. A literal IP is never looked up again.
///
/// How: getaddrinfo blocks (seconds when DNS is slow or down), so it runs on a short-lived
/// detached thread, never on the loop; that thread leaves the result in a mutex-guarded slot and
/// the loop takes it before its next connect. Until then connects go on with the old list, so
/// a retry may still fail once more, but the loop never waits for DNS. A resolution that fails
/// keeps the old list. Confined to the client's loop, except the slot.
public final class EndpointAddressList {
    public static let maxAgeNs: UInt64 = 30_000_000_000
    public static let refreshIntervalMinNs: UInt64 = 1_000_000_000

    public let host: String
    public let port: Int
    private let resolver: EndpointResolver
    private let clockNs: () -> UInt64
    private let isLiteral: Bool
    public private(set) var addresses: [EndpointAddress]
    private var nextIndex = 0
    /// Addresses (by text) whose connect failed since the last successful connect.
    private var failed: Set<String> = []
    private var resolvedAtNs: UInt64
    private var refreshStartedNs: UInt64?
    private var refreshInFlight: ResolutionSlot?

    /// A list that starts with `addresses`, resolved just now (by the caller; empty when the
    /// name did not resolve). `clockNs` is the loops' monotonic clock (tests: one they move).
    public init(host: String, port: Int, addresses: [EndpointAddress], resolver: @escaping EndpointResolver,
                clockNs: @escaping () -> UInt64 = { EventLoop.monotonicNowNs }) {
        self.host = host
        self.port = port
        self.resolver = resolver
        self.clockNs = clockNs
        self.addresses = addresses
        isLiteral = EndpointAddress.literal(host, port: port) != nil
        resolvedAtNs = clockNs()
    }

    /// Resolves `host` once, now (blocking: start-up only).
    public convenience init(host: String, port: Int, resolver: @escaping EndpointResolver,
                            clockNs: @escaping () -> UInt64 = { EventLoop.monotonicNowNs }) throws(ResolutionError) {
        self.init(host: host, port: port, addresses: try resolver(host, port), resolver: resolver, clockNs: clockNs)
    }

    /// A resolution started and the loop has not taken its list yet.
    public var resolutionPending: Bool { refreshInFlight != nil }

    /// The address the next connection goes to (after taking a finished resolution's list).
    /// The list must not be empty.
    public func next() -> EndpointAddress {
        takeFinishedResolution()
        return addresses[nextIndex % addresses.count]
    }

    /// A connect succeeded: the list works, failures so far do not add up to a refresh.
    public func connected() {
        failed.removeAll()
    }

    /// A connect to `endpoint` (an `EndpointAddress.description`) failed: the next connection
    /// tries the next address, and the list is resolved again when it looks stale.
    public func connectFailed(_ endpoint: String) {
        nextIndex += 1
        failed.insert(endpoint)
        resolveIfStale()
    }

    /// Starts a resolution off the loop when the list looks stale (every address failed, which
    /// an empty list counts as, or older than `maxAgeNs`) and none ran in the last second.
    public func resolveIfStale() {
        let nowNs = clockNs()
        let everyAddressFailed = addresses.allSatisfy { failed.contains($0.description) }
        guard !isLiteral, everyAddressFailed || nowNs &- resolvedAtNs >= Self.maxAgeNs else { return }
        guard refreshInFlight == nil,
              refreshStartedNs.map({ nowNs &- $0 >= Self.refreshIntervalMinNs }) ?? true else { return }
        let slot = ResolutionSlot()
        let (resolver, host, port) = (self.resolver, self.host, self.port)
        guard let thread = OSThread.spawn({ slot.fill(Result { () throws(ResolutionError) in try resolver(host, port) }) }) else { return }
        thread.detach()
        refreshInFlight = slot
        refreshStartedNs = nowNs
    }

    /// Takes the list of a resolution that finished; true when it replaced `addresses`.
    @discardableResult
    public func takeFinishedResolution() -> Bool {
        guard let slot = refreshInFlight, let result = slot.finished else { return false }
        refreshInFlight = nil
        guard case .success(let fresh) = result, !fresh.isEmpty else { return false }
        addresses = fresh
        nextIndex = 0
        failed.removeAll()
        resolvedAtNs = clockNs()
        return true
    }
}

/// Where the resolving thread leaves its result for the loop.
private final class ResolutionSlot: Sendable {
    private let result = Mutex<Result<[EndpointAddress], ResolutionError>?>(nil)

    func fill(_ value: Result<[EndpointAddress], ResolutionError>) { result.withLock { $0 = value } }

    var finished: Result<[EndpointAddress], ResolutionError>? { result.withLock { $0 } }
}
