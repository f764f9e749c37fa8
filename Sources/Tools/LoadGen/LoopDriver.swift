import GRPC
import Runtime

/// What one client loop does: its connections, its share of an open-loop rate, the clock.
struct DriverPlan: Sendable {
    /// The server's addresses, resolved before the loops start: the run's connection `c` goes
    /// to `addresses[c % count]`, and to the next one each time it fails or is closed. The name
    /// is resolved again (off the loop, `EndpointAddressList`'s policy) when its addresses stop
    /// answering, so pods that come and go keep their share of the load.
    var addresses: [EndpointAddress]
    var host: String
    var port: Int
    var resolver: EndpointResolver
    /// The run-wide number of this loop's first connection.
    var firstConnection: Int
    /// `:authority` of every call: the target as given, `host:port` or `[ipv6]:port`.
    var authority: String
    var connections: Int
    var streamsPerConnection: Int
    /// This loop's share of the open-loop rate; nil runs closed loop (every stream busy).
    var pushesPerSecond: Double?
    var clock: RunClock
    var drainTimeoutNs: UInt64
    /// Open loop: due pushes waiting for a free stream, at most this many (then refused
    /// as `CLIENT_BACKLOG_FULL`).
    var backlogMax: Int
    var seed: UInt64
    var shape: WorkloadShape
    /// Where the loop hands in the ids it sent and was told OK for (nil: not kept).
    var ledger: AuditLedger?
}

/// The load of one client event loop (loop-confined): builds pushes, keeps the streams of
/// its connections busy (closed loop) or sends on the pacer's schedule (open loop), records
/// latencies, and hands its counts to the `RunCollector` every second and at the end.
final class LoopDriver {
    private let loop: EventLoop
    private let plan: DriverPlan
    private let board: PayloadBoard
    private let collector: RunCollector
    private var payloads: PayloadSet
    private var generation: Int
    private var builder: PushBuilder
    private var connections: [PushConnection?] = []
    private let addressList: EndpointAddressList
    /// Per slot: how many addresses past its own it has moved (one per failed connection), and
    /// the address of its connection.
    private var slotShifts: [Int] = []
    private var slotAddresses: [String] = []
    private var nextConnection = 0
    private var pacer: OpenLoopPacer?
    private var backlog: [UInt64] = []
    private var backlogHead = 0
    private var interval: IntervalCounts
    private var totals = WindowTotals()
    private var ticker: TimerID?
    private(set) var isFinished = false
    /// With a ledger: the ids this loop sent and was told OK for, handed in at the finish.
    private var sentIDs: [UInt128] = []
    private var ackedIDs: [UInt128] = []

    init(loop: EventLoop, plan: DriverPlan, board: PayloadBoard, collector: RunCollector) {
        self.loop = loop
        self.plan = plan
        self.board = board
        self.collector = collector
        (payloads, generation) = board.latest()
        addressList = EndpointAddressList(host: plan.host, port: plan.port, addresses: plan.addresses, resolver: plan.resolver)
        builder = PushBuilder(shape: plan.shape, seed: plan.seed)
        interval = IntervalCounts(index: 0)
        if let rate = plan.pushesPerSecond { pacer = OpenLoopPacer(startNs: plan.clock.startNs, pushesPerSecond: rate) }
    }

    /// Connects and arms the ticker; on the loop thread, or before the loop starts.
    func start() {
        connections = Array(repeating: nil, count: plan.connections)
        slotShifts = Array(repeating: 0, count: plan.connections)
        slotAddresses = Array(repeating: "", count: plan.connections)
        for slot in connections.indices { connect(slot) }
        let tickMs: UInt64 = pacer == nil ? 50 : 1
        ticker = loop.scheduleTimer(afterMs: tickMs, repeatingEveryMs: tickMs) { [unowned self] _ in tick() }
    }

    // MARK: Connections' callbacks.

    func pushFinished(_ push: InFlightPush, _ status: GRPCStatus, nowNs: UInt64) {
        roll(nowNs)
        let ok = status.code == .ok
        if ok { addressList.connected() }
        if ok && plan.ledger != nil { ackedIDs.append(push.profileID) }
        let micros = LatencyScale.micros(nowNs &- push.startNs)
        if ok {
            interval.ok += 1
            interval.sentBytes += push.sentBytes
            interval.rawBytes += push.rawBytes
            interval.histogram.record(micros)
        } else {
            interval.errors += 1
        }
        if plan.clock.inWindow(push.startNs) {
            if ok {
                totals.histogram.record(micros)
            } else {
                totals.recordError(StatusName.of(status.code), String(decoding: status.message.bytes, as: UTF8.self))
            }
        }
        if ok && plan.clock.inWindow(nowNs) {
            totals.acked += 1
            totals.sentBytes += push.sentBytes
            totals.rawBytes += push.rawBytes
        }
    }

    func connectionHasRoom(_ connection: PushConnection) {
        let now = EventLoop.monotonicNowNs
        if pacer != nil {
            while backlogHead < backlog.count, connection.hasCapacity {
                guard send(on: connection, startNs: backlog[backlogHead], nowNs: now) else { break }
                backlogHead += 1
            }
            compactBacklog()
        } else if now < plan.clock.measureEndNs {
            while connection.hasCapacity, send(on: connection, startNs: now, nowNs: now) {}
        }
        finishIfDone(now)
    }

    func connectionClosed(_ connection: PushConnection) {
        guard !isFinished, let slot = connections.firstIndex(where: { $0 === connection }) else { return }
        connections[slot] = nil
        totals.reconnects += 1
        moveOn(slot)
        // Reconnect after a pause (a refused connect would otherwise spin).
        loop.scheduleTimer(afterMs: 100) { [unowned self] _ in
            if !isFinished, EventLoop.monotonicNowNs < plan.clock.measureEndNs { connect(slot) }
        }
    }

    // MARK: Sending.

    /// The address slot `slot` connects to now: its own in the current list, shifted by its failures.
    private func address(of slot: Int) -> EndpointAddress {
        addressList.takeFinishedResolution()
        let addresses = addressList.addresses
        return addresses[(plan.firstConnection + slot + slotShifts[slot]) % addresses.count]
    }

    /// The slot's connection failed or was closed: its next one goes to the next address, and
    /// the list counts the failure (a resolution starts once all failed or the list is old).
    private func moveOn(_ slot: Int) {
        slotShifts[slot] += 1
        addressList.connectFailed(slotAddresses[slot])
    }

    private func connect(_ slot: Int) {
        let address = address(of: slot)
        slotAddresses[slot] = address.description
        do {
            connections[slot] = try PushConnection(driver: self, loop: loop, address: address, authority: plan.authority,
                                                   streamsMax: plan.streamsPerConnection)
        } catch {
            moveOn(slot)
            totals.recordError("CONNECT", "connect \(address): \(error)")
            loop.scheduleTimer(afterMs: 100) { [unowned self] _ in
                if !isFinished, EventLoop.monotonicNowNs < plan.clock.measureEndNs { connect(slot) }
            }
        }
    }

    private func send(on connection: PushConnection, startNs: UInt64, nowNs: UInt64) -> Bool {
        if board.generation != generation { (payloads, generation) = board.latest() }
        let push = builder.build(from: payloads)
        let sent = builder.writer.bytes.withUnsafeBytes {
            connection.send($0, InFlightPush(startNs: startNs, sentBytes: push.sentProfileBytes, rawBytes: push.rawProfileBytes,
                                             profileID: push.profileID))
        }
        if sent && plan.ledger != nil { sentIDs.append(push.profileID) }
        if sent && plan.clock.inWindow(startNs) { totals.started += 1 }
        return sent
    }

    private func tick() {
        let now = EventLoop.monotonicNowNs
        roll(now)
        if pacer != nil { pace(now) }
        if now >= plan.clock.measureEndNs + plan.drainTimeoutNs { abandonAll() }
        finishIfDone(now)
    }

    /// Sends every push the pacer says is due; without a free stream it waits in the backlog.
    private func pace(_ now: UInt64) {
        while backlogHead < backlog.count, let connection = connectionWithRoom(),
              send(on: connection, startNs: backlog[backlogHead], nowNs: now) {
            backlogHead += 1
        }
        compactBacklog()
        // Bounded per tick so the loop keeps reading answers; the schedule is kept regardless.
        for _ in 0 ..< 10_000 {
            guard let due = pacer!.nextDue(nowNs: now, endNs: plan.clock.measureEndNs) else { return }
            if backlogHead == backlog.count, let connection = connectionWithRoom(), send(on: connection, startNs: due, nowNs: now) {
                continue
            }
            if backlog.count - backlogHead >= plan.backlogMax {
                if plan.clock.inWindow(due) { totals.recordError("CLIENT_BACKLOG_FULL", "more than \(plan.backlogMax) pushes waiting for a stream") }
                interval.errors += 1
            } else {
                backlog.append(due)
            }
        }
    }

    private func connectionWithRoom() -> PushConnection? {
        for _ in 0 ..< connections.count {
            let c = connections[nextConnection]
            nextConnection = (nextConnection + 1) % connections.count
            if let c, c.hasCapacity { return c }
        }
        return nil
    }

    private func compactBacklog() {
        if backlogHead == backlog.count {
            backlog.removeAll(keepingCapacity: true)
            backlogHead = 0
        } else if backlogHead > 4096 && backlogHead > backlog.count / 2 {
            backlog.removeFirst(backlogHead)
            backlogHead = 0
        }
    }

    // MARK: Counting and finishing.

    /// Hands the finished second(s) to the collector.
    private func roll(_ now: UInt64) {
        let index = plan.clock.secondIndex(now)
        guard index > interval.index else { return }
        interval.pending = inFlightCount + backlog.count - backlogHead
        collector.add(interval)
        interval = IntervalCounts(index: index)
    }

    private var inFlightCount: Int { connections.reduce(0) { $0 + ($1?.inFlightCount ?? 0) } }

    /// Past the drain deadline: what is still unanswered is abandoned and counted.
    private func abandonAll() {
        for case let c? in connections {
            for push in c.abandon() where plan.clock.inWindow(push.startNs) { totals.unanswered += 1 }
        }
        let waiting = backlog[backlogHead...].filter { plan.clock.inWindow($0) }.count
        totals.unanswered += waiting
        backlog.removeAll()
        backlogHead = 0
    }

    private func finishIfDone(_ now: UInt64) {
        guard !isFinished, now >= plan.clock.measureEndNs, inFlightCount == 0, backlogHead == backlog.count else { return }
        isFinished = true
        if let ticker { loop.cancelTimer(ticker) }
        collector.add(interval)
        collector.finish(totals)
        plan.ledger?.add(sent: sentIDs, acked: ackedIDs)
        for case let c? in connections { _ = c.abandon() }
    }
}

/// gRPC status names as grpc-go prints them (`codes.Code.String()` upper-cased, as in `grpc_status`).
enum StatusName {
    static let names = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
    static func of(_ code: GRPCStatusCode) -> String {
        Int(code.rawValue) < names.count ? names[Int(code.rawValue)] : "CODE_\(code.rawValue)"
    }
}
