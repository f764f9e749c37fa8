import BinaryCoding
import GRPC
import Pprof
import Runtime
import SegmentObject

/// Serves one gRPC (h2c) connection on the loop that accepted it: `Push` and
/// `grpc.health.v1.Health/Check` and `/Watch` (ingest-and-ops.md §1, §5.4); other paths are
/// answered UNIMPLEMENTED by `GRPCServerConnection`. A Push is checked here
/// (readiness, request checks of §1.3), ingested by its shard's owner loop (inline when that
/// is this loop, else copied once into the owner's inbox), and answered when its segment is
/// durable, when its deadline passes, or never (client cancel / connection gone). The
/// connection's own life (handshake, idle, age, keepalive) follows `GRPCConnectionLifetime`.
final class GRPCConnectionHandler: ConnectionHandler {
    static let pushPath: ByteString = "/segmentwriter.v1.SegmentWriterService/Push"
    static let healthService: ByteString = "pyroscope.segment-writer"
    enum Method: Int, CaseIterable { case push = 0, healthCheck = 1, healthWatch = 2 }
    static let methods: [ByteString] = [pushPath, GRPCHealth.checkPath, GRPCHealth.watchPath]

    private struct CallState {
        var method: Method
        var startNs: UInt64
        /// When `grpc-timeout` ends the call (monotonic ns), 0 for none.
        var deadlineNs: UInt64 = 0
        var messageSeen = false
        var parked = false
        var tenant: String?
        /// The segment the Push waits on, when it was ingested on this loop.
        var segment: ULID?
    }

    private unowned let context: LoopContext
    private let grpc: GRPCServerConnection
    private var out = ByteWriter()
    private var connection: Connection?
    private var calls: [CallID: CallState] = [:]
    /// No call's deadline is earlier (`.max`: none); it may belong to a call already ended.
    private var earliestCallDeadlineNs = UInt64.max
    private var lifetime: GRPCConnectionLifetime
    /// Open `Health/Watch` streams of known services, told when serving stops.
    private var watchers: Set<CallID> = []
    /// Output written outside `received` waits for one `flushOutput` per batch.
    var outputPending = false
    /// Input not yet processed because the answers to what came before it filled the outbound
    /// queue past the loop's high watermark: taken up again in `connectionWritable`.
    private var heldInput: [UInt8] = []

    init(context: LoopContext, configuration: GRPCServerConfiguration, limits: GRPCConnectionLimits) {
        self.context = context
        grpc = GRPCServerConnection(configuration: configuration)
        lifetime = GRPCConnectionLifetime(limits: limits, openedNs: EventLoop.monotonicNowNs, jitter: .random(in: -1 ... 1))
    }

    func connectionOpened(_ connection: Connection) {
        self.connection = connection
        context.server.grpcConnections.increment()
        context.register(self, connection.id)
        grpc.start(into: &out)
        flushOutput()
        rearm(connection)
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        // Reading pauses while input is held, and `connectionWritable` takes it up first.
        precondition(heldInput.isEmpty, "read while earlier input waits")
        let now = EventLoop.monotonicNowNs
        lifetime.received(nowNs: now)
        grpc.clockNs = now
        var input = bytes
        serve(&input, on: connection)
        hold(input, on: connection)
    }

    /// The answers queued past the high watermark have drained: the input held behind them is
    /// served now (reading resumes after this returns, unless it filled the queue again).
    func connectionWritable(_ connection: Connection) {
        guard !heldInput.isEmpty, connection.isOpen else { return }
        let held = heldInput
        heldInput = []
        held.withUnsafeBytes { raw in
            var input = raw
            serve(&input, on: connection)
            hold(input, on: connection)
        }
    }

    /// Handles events from `input` while the connection takes its answers: once they pass the
    /// loop's high watermark the rest of `input` is left for when the queue drains (one 64 KiB
    /// read of 13-byte HEADERS frames could otherwise ask for thousands of answers at once).
    private func serve(_ input: inout UnsafeRawBufferPointer, on connection: Connection) {
        let wasEstablished = grpc.isEstablished
        let highWatermarkBytes = connection.loop.configuration.outboundHighWatermarkBytes
        repeat {
            let roomBytes = highWatermarkBytes - connection.outboundQueuedBytes
            while let event = grpc.next(&input, into: &out, outputPauseBytes: roomBytes) {
                handle(event)
            }
            flushOutput()
        } while !input.isEmpty && connection.isOpen && connection.isWritable && !grpc.isClosed
        // The handshake's deadline gives way to the keepalive's.
        if !wasEstablished && grpc.isEstablished && connection.isOpen { rearm(connection) }
    }

    /// Keeps what `serve` left of the input for `connectionWritable`, copied: a read's bytes
    /// live only for the callback. Nothing is kept once the connection is closing.
    private func hold(_ input: UnsafeRawBufferPointer, on connection: Connection) {
        guard !input.isEmpty, connection.isOpen, !grpc.isClosed else { return }
        heldInput.append(contentsOf: input)
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        context.server.grpcConnections.decrement()
        context.unregister(connection.id)
        for id in Array(calls.keys) { end(id, outcome: .cancel) }
        grpc.closed()
        heldInput = []
        self.connection = nil
    }

    /// A limit of the connection's life came due: ping, GOAWAY or close (grpc-go's keepalive
    /// loop). A close for age, idleness or a missing peer is logged at debug, as grpc-go does.
    /// Calls past their deadline end first.
    func deadlinePassed(_ connection: Connection) {
        // Closing for longer than `closeInOrder` allows: the peer is not taking its output.
        guard connection.isOpen else { return connection.closeNow() }
        expireCallDeadlines(nowNs: EventLoop.monotonicNowNs)
        // The last call's end closed it in order (a GOAWAY for age waited for it).
        guard connection.isOpen else { return }
        while true {
            switch lifetime.due(nowNs: EventLoop.monotonicNowNs, established: grpc.isEstablished) {
            case .nothing:
                flushOutput()
                rearm(connection)
                return
            case .ping:
                grpc.ping(into: &out)
            case .goAway(let reason):
                grpc.goAway(debug: ByteString(reason), into: &out)
                guard calls.isEmpty else { continue }
                context.server.log.debug("closing gRPC connection", ["reason": reason])
                return closeInOrder(connection)
            case .close(let reason):
                context.server.log.debug("closing gRPC connection", ["reason": reason])
                return connection.closeNow()
            }
        }
    }

    /// Closes once the queued output is sent, or a keepalive timeout from now if it cannot be
    /// (what grpc-go's TCP_USER_TIMEOUT would do, had dskit's wrapped connections not defeated it).
    private func closeInOrder(_ connection: Connection) {
        flushOutput()
        connection.close()
        connection.deadlineNs = EventLoop.monotonicNowNs &+ lifetime.limits.keepaliveTimeoutNs
    }

    private func rearm(_ connection: Connection) {
        let next = min(lifetime.nextDeadlineNs(established: grpc.isEstablished), earliestCallDeadlineNs)
        connection.deadlineNs = next == .max ? 0 : next
    }

    func flushOutput() {
        outputPending = false
        guard out.count > 0 else { return }
        if let connection { out.bytes.withUnsafeBytes { connection.write($0) } }
        out.bytes.removeAll(keepingCapacity: true)
    }

    /// Graceful shutdown: calls already open finish, new streams are refused.
    func goAway() {
        grpc.goAway(into: &out)
        flushOutput()
    }

    /// The flush outcome of a parked Push; false when the call already ended.
    func complete(_ call: CallID, status: GRPCStatus) -> Bool {
        guard let state = calls[call], state.parked else { return false }
        if status.code == .ok || status.code == .unknown {
            context.waitDuration(tenant: state.tenant ?? "").record(seconds(since: state.startNs))
        }
        if status.code == .ok {
            // A unary answer carries its one message, here an empty `PushResponse`. grpc-go, the
            // distributors' client, fails a call that ends without it ("cardinality violation").
            grpc.respond(call, message: UnsafeRawBufferPointer(start: nil, count: 0), into: &out)
            end(call, outcome: .success)
        } else {
            finish(call, status)
        }
        return true
    }

    // MARK: Events

    private func handle(_ event: GRPCServerEvent) {
        switch event {
        case .call(let id, let method, _, let timeoutNs):
            open(id, Method(rawValue: method)!, timeoutNs: timeoutNs)
        case .message(let id, let message):
            guard var state = calls[id], !state.messageSeen else { return }  // unary: the first message counts
            state.messageSeen = true
            calls[id] = state
            message.withBytes { context.routeMetrics(state.method).messageBytes.record(Double($0.count)) }
            switch state.method {
            case .push: push(id, message)
            case .healthCheck: healthCheck(id, message)
            case .healthWatch: healthWatch(id, message)
            }
        case .halfClosed(let id):
            if let state = calls[id], !state.messageSeen {
                finish(id, GRPCStatus(.internalError, "grpc: error while receiving request: no request message"))
            }
        case .cancelled(let id, _):
            end(id, outcome: .cancel)
        case .failed(let id, _):
            end(id, outcome: .error)
        case .goAway:
            break
        case .connectionError:
            if let connection { closeInOrder(connection) }
        }
    }

    private func open(_ id: CallID, _ method: Method, timeoutNs: UInt64?) {
        var state = CallState(method: method, startNs: EventLoop.monotonicNowNs)
        if method == .push { context.server.pushesInFlight.add(1, ordering: .sequentiallyConsistent) }
        context.routeMetrics(method).inflight.increment()
        calls[id] = state
        lifetime.callOpened()
        guard let timeoutNs, let connection else { return }
        // Clamped: `grpc-timeout` goes up to 99999999H, far past any wait for a segment.
        state.deadlineNs = state.startNs &+ min(timeoutNs, Self.deadlineNsMax)
        calls[id] = state
        if state.deadlineNs < earliestCallDeadlineNs {
            earliestCallDeadlineNs = state.deadlineNs
            rearm(connection)
        }
    }

    /// Calls past their `grpc-timeout` end DEADLINE_EXCEEDED. Their deadlines ride on the
    /// connection's, which the loop sweeps every `deadlineResolutionMs` (so one ends up to that
    /// late), not on a timer each: peers choose how many calls carry one, and a table of the
    /// loop's they could fill would let one peer refuse every other's calls.
    private func expireCallDeadlines(nowNs: UInt64) {
        guard earliestCallDeadlineNs <= nowNs else { return }
        var expired: [CallID] = []
        var next = UInt64.max
        for (id, state) in calls where state.deadlineNs != 0 {
            if state.deadlineNs <= nowNs { expired.append(id) } else { next = min(next, state.deadlineNs) }
        }
        earliestCallDeadlineNs = next
        for id in expired { deadlineExpired(id) }
        flushOutput()
    }

    private func deadlineExpired(_ id: CallID) {
        guard let state = calls[id] else { return }
        if state.method == .push && state.parked { context.waitTimeouts(tenant: state.tenant ?? "").increment() }
        // ingest-and-ops.md §1.3 6c; the ULID only when the shard is owned here.
        let segment = state.segment.map { "\($0) " } ?? ""
        finish(id, GRPCStatus(.deadlineExceeded, ByteString("waitFlushed: \(segment)context deadline exceeded")))
    }

    // MARK: Push

    private func push(_ id: CallID, _ message: GRPCMessage) {
        let server = context.server
        guard server.readiness.admitsPushes, let connection else {
            finish(id, GRPCStatus(.unavailable, "service is unavailable"))
            return
        }
        message.withBytes { raw in
            let push: PushRequestView
            do throws(PushError) {
                push = try PushRequestView(raw, maxMessageBytes: server.config.server.grpcMaxRecvMsgSizeBytes)
            } catch {
                finish(id, GRPCStatus(error))
                return
            }
            calls[id]?.tenant = context.tenantName(push.tenantID)
            // Parked before ingest: a flush may answer it synchronously (size bound, blocking store).
            calls[id]?.parked = true
            let ack = PendingAck(connection: connection.id, call: id)
            let owner = Int(push.shard % UInt32(server.loops.count))
            if owner == context.loop.index {
                guard server.budget.usedBytes < server.budget.bytesMax else {
                    finish(id, Self.budgetExceeded)
                    return
                }
                switch context.ingest(push, ack: ack) {
                case .refused(let status):
                    finish(id, status)
                case .parked(let segment):
                    calls[id]?.segment = segment
                }
            } else {
                guard server.budget.tryReserve(raw.count) else {
                    finish(id, Self.budgetExceeded)
                    return
                }
                // One copy to cross loops; a message already assembled into its own array moves.
                let copy: [UInt8]
                if case .owned(let bytes) = message { copy = bytes } else { copy = Array(raw) }
                guard server.loops[owner].pushes.post(PushJob(message: copy, ack: ack)) else {
                    server.budget.release(raw.count)
                    finish(id, GRPCStatus(.resourceExhausted, "segment-writer: shard inbox full"))
                    return
                }
            }
        }
    }

    /// Thirty days: a longer deadline never passes before the Push is answered anyway.
    static let deadlineNsMax: UInt64 = 30 * 24 * 3600 * 1_000_000_000

    static let budgetExceeded = GRPCStatus(.resourceExhausted, "segment-writer: memory budget exceeded")

    // MARK: Health

    private func healthCheck(_ id: CallID, _ message: GRPCMessage) {
        guard let service = healthService(id, message) else { return }
        guard service.isEmpty || service == Self.healthService else {
            finish(id, GRPCStatus(.notFound, "unknown service"))
            return
        }
        sendHealth(id, servingStatus)
        finish(id, .ok)
    }

    /// ingest-and-ops.md §5.4, U1: the current status now, NOT_SERVING when draining starts;
    /// an unknown service gets SERVICE_UNKNOWN and the stream stays open (as grpc-go).
    private func healthWatch(_ id: CallID, _ message: GRPCMessage) {
        guard let service = healthService(id, message) else { return }
        guard service.isEmpty || service == Self.healthService else {
            sendHealth(id, .serviceUnknown)
            return
        }
        sendHealth(id, servingStatus)
        watchers.insert(id)
    }

    /// Health turned NOT_SERVING: every watcher hears it.
    func servingStopped() {
        for id in watchers { sendHealth(id, .notServing) }
        flushOutput()
    }

    private var servingStatus: GRPCHealth.ServingStatus { context.server.readiness.isHealthServing ? .serving : .notServing }

    private func healthService(_ id: CallID, _ message: GRPCMessage) -> ByteString? {
        guard let service = message.withBytes({ raw in try? GRPCHealth.decodeRequest(raw) }) else {
            finish(id, GRPCStatus(.internalError, "grpc: error unmarshalling request"))
            return nil
        }
        return service
    }

    private func sendHealth(_ id: CallID, _ status: GRPCHealth.ServingStatus) {
        var body = ByteWriter()
        GRPCHealth.appendResponse(status, into: &body)
        body.bytes.withUnsafeBytes { grpc.sendMessage(id, $0, into: &out) }
    }

    // MARK: Ending calls

    private func finish(_ id: CallID, _ status: GRPCStatus) {
        grpc.finish(id, status: status, into: &out)
        end(id, outcome: status.code == .ok ? .success : .error)
    }

    /// Forgets the call (already answered, reset or gone): the drain counter, metrics.
    private func end(_ id: CallID, outcome: CallOutcome) {
        guard let state = calls.removeValue(forKey: id) else { return }
        watchers.remove(id)
        if calls.isEmpty { earliestCallDeadlineNs = .max }
        if state.method == .push { context.server.pushesInFlight.subtract(1, ordering: .sequentiallyConsistent) }
        context.routeMetrics(state.method).inflight.decrement()
        context.requestDuration(state.method, outcome: outcome).record(seconds(since: state.startNs))
        guard calls.isEmpty, let connection, connection.isOpen else { return }
        lifetime.lastCallEnded(nowNs: EventLoop.monotonicNowNs)
        if lifetime.isDraining {  // the GOAWAY for age went out and the last call ended
            closeInOrder(connection)
        } else {
            rearm(connection)
        }
    }
}
