import BinaryCoding
import GRPC
import HTTP2
import Runtime

public struct MetastoreClientConfiguration: Sendable {
    /// The `-metastore.address` nodes with their start-up addresses (possibly none yet).
    public var endpoints: [MetastoreEndpoint]
    /// Looks names up again, off the loop (tests: a name whose addresses change).
    public var resolver: EndpointResolver = EndpointAddress.resolve
    /// `-segment-writer.metadata-update-timeout`: the whole call, retries included.
    public var timeoutNs: UInt64 = 2_000_000_000
    /// Upstream's client ends every call after 20 s, whatever its caller's deadline.
    public static let timeoutNsMax: UInt64 = 20_000_000_000
    /// A connect with no answer within this is abandoned as failed and the call moves on to the
    /// next node (a vanished pod's address often drops SYNs). 1 s, the S3 stores' connect timeout
    /// (a live peer answers a SYN within milliseconds, and the kernel resends an unanswered
    /// one only after a second). The call's deadline still ends a connect sooner.
    public var connectTimeoutNs: UInt64 = 1_000_000_000
    /// TLS to every node; nil speaks h2c (`-metastore.grpc-client-config.tls-enabled=false`).
    public var tls: MetastoreTLS?
    /// Upstream's client backoff (§11.3): dskit's, jittered, 10 ms doubling to 100 ms, at most
    /// 50 attempts.
    public var backoffMinNs: UInt64 = 10_000_000
    public var backoffMaxNs: UInt64 = 100_000_000
    public var attemptsMax = 50

    public init(endpoints: [MetastoreEndpoint]) { self.endpoints = endpoints }
}

/// Why an AddBlock did not succeed: the last status a node answered (or the reason no node
/// could be asked), and whether the deadline ended it.
public struct MetastoreError: Error, Sendable, CustomStringConvertible {
    public var status: GRPCStatus
    public var attempts: Int

    public var description: String { "\(status.message) (\(status.code), \(attempts) attempt\(attempts == 1 ? "" : "s"))" }
}

/// The `IndexService` client of one event loop (segment-object.md §10.4, §11): AddBlock for the
/// writer, GetBlockMetadata for loadgen's audit. One reused h2c (or TLS)
/// connection per node address (`MetastoreBackends`: every address of every name, re-resolved
/// when connects fail), the leader cached across calls, UNAVAILABLE with a `RaftNode` hint →
/// the hinted leader, other failures → the next address, with backoff, all inside the deadline.
/// `INVALID_ARGUMENT` is final. Loop-confined: call it on `loop` only.
public final class MetastoreClient {
    public static let addBlockPath: ByteString = "/metastore.v1.IndexService/AddBlock"
    public static let getBlockMetadataPath: ByteString = "/metastore.v1.IndexService/GetBlockMetadata"

    public let loop: EventLoop
    public let configuration: MetastoreClientConfiguration
    private let backends: MetastoreBackends

    public init(loop: EventLoop, configuration: MetastoreClientConfiguration) {
        precondition(!configuration.endpoints.isEmpty, "a metastore client needs at least one node")
        self.loop = loop
        self.configuration = configuration
        backends = MetastoreBackends(endpoints: configuration.endpoints, resolver: configuration.resolver,
                                     connectTimeoutMs: max(1, configuration.connectTimeoutNs / 1_000_000), tls: configuration.tls, loop: loop)
    }

    /// Registers a block: `request` is the `AddBlockRequest` body (`BlockMeta.addBlockRequest()`).
    /// `done` runs once on the loop, never from inside this call.
    public func addBlock(_ request: [UInt8], done: @escaping (MetastoreError?) -> Void) {
        call(Self.addBlockPath, request) { result in
            if case .failure(let error) = result { return done(error) }
            done(nil)
        }
    }

    /// Asks which of a shard's blocks the metastore holds: `request` is the
    /// `GetBlockMetadataRequest` body, the answer the `GetBlockMetadataResponse` body (`SegmentObject`'s
    /// `BlockMetadataQuery` writes and reads both). Same nodes, retries and deadline as `addBlock`.
    public func getBlockMetadata(_ request: [UInt8], done: @escaping (Result<[UInt8], MetastoreError>) -> Void) {
        call(Self.getBlockMetadataPath, request, done: done)
    }

    /// One unary call across its attempts; `done` gets the response message (empty when the
    /// node sent none: an empty message is zero bytes on the wire too).
    private func call(_ path: ByteString, _ request: [UInt8], done: @escaping (Result<[UInt8], MetastoreError>) -> Void) {
        let call = Call(path: path, request: request, deadlineNs: EventLoop.monotonicNowNs &+ configuration.timeoutNs,
                        backoff: RetryBackoff(minNs: configuration.backoffMinNs, maxNs: configuration.backoffMaxNs), done: done)
        call.deadlineTimer = loop.scheduleTimer(afterMs: max(1, configuration.timeoutNs / 1_000_000)) { [self] _ in
            call.deadlineTimer = nil
            if let (connection, handle, backend) = call.inFlight {
                connection.cancel(handle)
                // A node that did not answer in time is not tried first again (upstream moves on
                // after any error without a leader hint), so one dead node cannot eat every deadline.
                backends.moveOn(from: backend)
            }
            call.inFlight = nil
            let last = call.lastStatus.map { ": last answer \($0.code): \($0.message)" } ?? ""
            finish(call, .failure(GRPCStatus(.deadlineExceeded, ByteString("context deadline exceeded\(last)"))))
        }
        loop.scheduleTimer(afterMs: 0) { [self] _ in attempt(call) }
    }

    private func attempt(_ call: Call) {
        guard !call.isDone else { return }
        call.attempts += 1
        backends.refresh()
        guard let backend = backends.preferred else {
            // Upstream's grpc-go channel fails calls UNAVAILABLE while its resolver has no address.
            let names = backends.unresolvedNames.joined(separator: ",")
            return failed(call, at: nil, GRPCStatus(.unavailable, ByteString("no address for metastore \(names) yet")), [])
        }
        let now = EventLoop.monotonicNowNs
        let remainingNs = call.deadlineNs > now ? call.deadlineNs - now : 1
        let connection: NodeConnection
        do {
            connection = try backends.connection(backend)
        } catch {
            return failed(call, at: backend, GRPCStatus(.unavailable, ByteString("connect \(backend.address): \(error)")), [])
        }
        let handle = connection.unary(path: call.path, request: call.request, timeoutNs: remainingNs) { [self] status, trailers, response in
            call.inFlight = nil
            guard !call.isDone else { return }
            if status.code == .ok {
                backends.prefer(backend)
                return finish(call, .success(response ?? []))
            }
            failed(call, at: backend, status, trailers)
        }
        call.inFlight = (connection, handle, backend)
    }

    /// After a failed attempt: final for INVALID_ARGUMENT; else pick the next node (the
    /// hinted leader, or the one after `backend`) and retry after the backoff if time remains.
    private func failed(_ call: Call, at backend: MetastoreBackend?, _ status: GRPCStatus, _ trailers: [HeaderField]) {
        call.lastStatus = status
        if status.code == .invalidArgument { return finish(call, .failure(status)) }
        // A hint that names no configured node, or the node that just failed, is not followed:
        // the next node is tried, as upstream's client does when its leader ID is unknown.
        if let hint = trailers.first(named: StatusDetails.headerName).flatMap(StatusDetails.raftLeader(headerValue:)),
           let hinted = backends.backend(for: hint), hinted !== backend {
            backends.prefer(hinted)
        } else if let backend {
            backends.moveOn(from: backend)
        }
        var random = SystemRandomNumberGenerator()
        let backoff = call.backoff.nextDelayNs(using: &random)
        guard call.attempts < configuration.attemptsMax, EventLoop.monotonicNowNs &+ backoff < call.deadlineNs else {
            return finish(call, .failure(status))
        }
        loop.scheduleTimer(afterMs: max(1, backoff / 1_000_000)) { [self] _ in attempt(call) }
    }

    private func finish(_ call: Call, _ outcome: Result<[UInt8], GRPCStatus>) {
        guard !call.isDone else { return }
        call.isDone = true
        if let timer = call.deadlineTimer { loop.cancelTimer(timer) }
        call.deadlineTimer = nil
        call.done(outcome.mapError { MetastoreError(status: $0, attempts: call.attempts) })
    }
}

/// One call across its attempts (loop-confined).
private final class Call {
    let path: ByteString
    let request: [UInt8]
    let deadlineNs: UInt64
    var backoff: RetryBackoff
    let done: (Result<[UInt8], MetastoreError>) -> Void
    var attempts = 0
    var lastStatus: GRPCStatus?
    var inFlight: (connection: NodeConnection, handle: UInt64, backend: MetastoreBackend)?
    var deadlineTimer: TimerID?
    var isDone = false

    init(path: ByteString, request: [UInt8], deadlineNs: UInt64, backoff: RetryBackoff,
         done: @escaping (Result<[UInt8], MetastoreError>) -> Void) {
        self.path = path
        self.request = request
        self.deadlineNs = deadlineNs
        self.backoff = backoff
        self.done = done
    }
}
