import BinaryCoding
import GRPC
import HTTP2
import Runtime

public struct MetastoreClientConfiguration: Sendable {
    public var endpoints: [MetastoreEndpoint]
    /// `-segment-writer.metadata-update-timeout`: the whole call, retries included.
    public var timeoutNs: UInt64 = 2_000_000_000
    /// Upstream's client backoff (§11.3): 10 ms doubling to 100 ms, at most 50 attempts.
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

/// The AddBlock client of one event loop (segment-object.md §10.4, §11): one reused h2c
/// connection per node, the leader cached across calls, UNAVAILABLE with a `RaftNode` hint →
/// the hinted leader, other failures → the next node, with backoff, all inside the deadline.
/// `INVALID_ARGUMENT` is final. Loop-confined: call `addBlock` on `loop` only.
public final class MetastoreClient {
    public static let addBlockPath: ByteString = "/metastore.v1.IndexService/AddBlock"

    public let loop: EventLoop
    public let configuration: MetastoreClientConfiguration
    private var endpoints: [MetastoreEndpoint]
    private var connections: [NodeConnection?]
    /// Hinted leaders not in the configured list are added, up to this many beyond it.
    private let addedNodesMax = 8
    /// The node calls go to first: the last hinted or successful one.
    private var leader = 0

    public init(loop: EventLoop, configuration: MetastoreClientConfiguration) {
        precondition(!configuration.endpoints.isEmpty, "a metastore client needs at least one node")
        self.loop = loop
        self.configuration = configuration
        endpoints = configuration.endpoints
        connections = Array(repeating: nil, count: endpoints.count)
    }

    /// Registers a block: `request` is the `AddBlockRequest` body (`BlockMeta.addBlockRequest()`).
    /// `done` runs once on the loop, never from inside this call.
    public func addBlock(_ request: [UInt8], done: @escaping (MetastoreError?) -> Void) {
        let call = Call(request: request, deadlineNs: EventLoop.monotonicNowNs &+ configuration.timeoutNs,
                        backoffNs: configuration.backoffMinNs, done: done)
        call.deadlineTimer = loop.scheduleTimer(afterMs: max(1, configuration.timeoutNs / 1_000_000)) { [self] _ in
            call.deadlineTimer = nil
            if let (node, handle, index) = call.inFlight {
                node.cancel(handle)
                // A node that did not answer in time is not tried first again (upstream moves on
                // after any error without a leader hint), so one dead node cannot eat every deadline.
                if leader == index { leader = (index + 1) % endpoints.count }
            }
            call.inFlight = nil
            let last = call.lastStatus.map { ": last answer \($0.code): \($0.message)" } ?? ""
            finish(call, GRPCStatus(.deadlineExceeded, ByteString("context deadline exceeded\(last)")))
        }
        loop.scheduleTimer(afterMs: 0) { [self] _ in attempt(call) }
    }

    private func attempt(_ call: Call) {
        guard !call.isDone else { return }
        call.attempts += 1
        let index = leader
        let now = EventLoop.monotonicNowNs
        let remainingNs = call.deadlineNs > now ? call.deadlineNs - now : 1
        let node: NodeConnection
        do {
            node = try connection(index)
        } catch {
            return failed(call, at: index, GRPCStatus(.unavailable, ByteString("connect \(endpoints[index].node.address): \(error)")), [])
        }
        let handle = node.unary(path: Self.addBlockPath, request: call.request, timeoutNs: remainingNs) { [self] status, trailers in
            call.inFlight = nil
            guard !call.isDone else { return }
            if status.code == .ok {
                leader = index
                return finish(call, nil)
            }
            failed(call, at: index, status, trailers)
        }
        call.inFlight = (node, handle, index)
    }

    /// After a failed attempt: final for INVALID_ARGUMENT; else pick the next node (the
    /// hinted leader, or the one after `index`) and retry after the backoff if time remains.
    private func failed(_ call: Call, at index: Int, _ status: GRPCStatus, _ trailers: [HeaderField]) {
        call.lastStatus = status
        if status.code == .invalidArgument { return finish(call, status) }
        if let hint = trailers.first(named: StatusDetails.headerName).flatMap(StatusDetails.raftLeader(headerValue:)),
           let hinted = node(for: hint) {
            leader = hinted
        } else if leader == index {
            leader = (index + 1) % endpoints.count
        }
        let backoff = call.backoffNs
        call.backoffNs = min(backoff * 2, configuration.backoffMaxNs)
        guard call.attempts < configuration.attemptsMax, EventLoop.monotonicNowNs &+ backoff < call.deadlineNs else {
            return finish(call, status)
        }
        loop.scheduleTimer(afterMs: max(1, backoff / 1_000_000)) { [self] _ in attempt(call) }
    }

    /// The node a hint names: by raft ID (port stripped) or dial address; an unknown leader
    /// with an IPv4 `host:port` address is added (names are not resolved on the loop).
    private func node(for hint: RaftNodeHint) -> Int? {
        let id = MetastoreAddresses.stripPort(hint.id)
        if let i = endpoints.firstIndex(where: { $0.node.address == hint.address || "\($0.ipv4):\($0.node.port)" == hint.address }) {
            return i
        }
        if !id.isEmpty, let i = endpoints.firstIndex(where: { $0.node.id == id }) { return i }
        guard let parsed = try? MetastoreAddresses.parse(hint.address), parsed.count == 1,
              MetastoreAddresses.isIPv4Literal(parsed[0].host),
              endpoints.count < configuration.endpoints.count + addedNodesMax else { return nil }
        var node = parsed[0]
        if !id.isEmpty { node.id = id }
        endpoints.append(MetastoreEndpoint(node: node, ipv4: node.host))
        connections.append(nil)
        return endpoints.count - 1
    }

    private func connection(_ index: Int) throws(Errno) -> NodeConnection {
        if let existing = connections[index], existing.isUsable { return existing }
        let node = try NodeConnection(endpoint: endpoints[index], loop: loop) { [weak self] closed in
            guard let self, index < connections.count, connections[index] === closed else { return }
            connections[index] = nil
        }
        connections[index] = node
        return node
    }

    private func finish(_ call: Call, _ status: GRPCStatus?) {
        guard !call.isDone else { return }
        call.isDone = true
        if let timer = call.deadlineTimer { loop.cancelTimer(timer) }
        call.deadlineTimer = nil
        call.done(status.map { MetastoreError(status: $0, attempts: call.attempts) })
    }
}

/// One AddBlock across its attempts (loop-confined).
private final class Call {
    let request: [UInt8]
    let deadlineNs: UInt64
    var backoffNs: UInt64
    let done: (MetastoreError?) -> Void
    var attempts = 0
    var lastStatus: GRPCStatus?
    var inFlight: (node: NodeConnection, handle: UInt64, index: Int)?
    var deadlineTimer: TimerID?
    var isDone = false

    init(request: [UInt8], deadlineNs: UInt64, backoffNs: UInt64, done: @escaping (MetastoreError?) -> Void) {
        self.request = request
        self.deadlineNs = deadlineNs
        self.backoffNs = backoffNs
        self.done = done
    }
}
