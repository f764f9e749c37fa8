import BinaryCoding
import GRPC
import HTTP2
import Runtime
import TLS

/// One reused HTTP/2 connection to one metastore node, h2c or over TLS (loop-confined): connected lazily on the
/// first call, forgotten when it closes (the next call reconnects). Calls started before the
/// server's SETTINGS arrive wait for them. A connect not completed within its timeout is
/// abandoned: a black-holed address (SYNs dropped) would otherwise hold every call waiting on
/// it until the call's deadline.
final class NodeConnection: ConnectionHandler {
    /// The call's status, its trailers and its response message (nil when none came).
    typealias Completion = (GRPCStatus, [HeaderField], [UInt8]?) -> Void

    /// What the client hears: the TCP connect's outcome (it decides when a name is resolved
    /// again), then the end of a connection that had opened.
    enum Event {
        case connected
        case connectFailed
        case closed
    }

    private let loop: EventLoop
    private let grpc: GRPCClientConnection
    private var connection: Connection?
    private var ready = false
    private var goingAway = false
    private(set) var isClosed = false
    private var opened = false
    /// Armed at connect, cancelled once it completes or fails.
    private var connectTimer: TimerID?
    private var connectTimedOutMs: UInt64?
    /// Unary calls waiting for SETTINGS.
    private var waiting: [(id: UInt64, path: ByteString, request: [UInt8], timeoutNs: UInt64, done: Completion)] = []
    private var calls: [CallID: Completion] = [:]
    /// The response message of each call that has one so far (a unary call has at most one).
    private var responses: [CallID: [UInt8]] = [:]
    /// Caller-side handles: a waiting call has no `CallID` yet.
    private var handles: [UInt64: CallID] = [:]
    private var nextHandle: UInt64 = 0
    private var out = ByteWriter()
    /// Nil for h2c. With TLS, HTTP/2 bytes wait in `out` until the handshake completed.
    private let tls: NodeTLS?
    /// Why the TLS layer closed the connection (handshake, verification, a record).
    private var tlsFailure: String?
    private let onEvent: (NodeConnection, Event) -> Void

    /// Connects to `address` on `loop`; `authority` is the configured `host:port`. `onEvent`
    /// hears `.connected` or `.connectFailed` (also when no answer came within
    /// `connectTimeoutMs`), then `.closed` if it had connected.
    init(address: EndpointAddress, authority: String, loop: EventLoop, connectTimeoutMs: UInt64, tls: NodeTLS?,
         onEvent: @escaping (NodeConnection, Event) -> Void) throws(Errno) {
        self.loop = loop
        self.onEvent = onEvent
        self.tls = tls
        grpc = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: ByteString(authority)))
        let id = try loop.connect(to: address, handler: self)
        connection = loop.connection(id)
        connectTimer = loop.scheduleTimer(afterMs: connectTimeoutMs) { [weak self] _ in self?.connectTimedOut(afterMs: connectTimeoutMs) }
        grpc.start(into: &out)
        flush()
    }

    /// True while new calls may use this connection.
    var isUsable: Bool { !isClosed && !goingAway && !grpc.isClosed }

    /// Starts a unary call; `done` runs exactly once (never from inside this function).
    /// Returns a handle for `cancel`.
    func unary(path: ByteString, request: [UInt8], timeoutNs: UInt64, done: @escaping Completion) -> UInt64 {
        nextHandle += 1
        let handle = nextHandle
        if ready {
            start(handle, path: path, request: request, timeoutNs: timeoutNs, done: done)
            flush()
        } else {
            waiting.append((handle, path, request, timeoutNs, done))
        }
        return handle
    }

    /// Abandons a call (RST_STREAM CANCEL); its completion never runs. A call still waiting
    /// for SETTINGS means the handshake took a whole deadline: the connection is dropped, so
    /// the next call dials again.
    func cancel(_ handle: UInt64) {
        if let call = handles.removeValue(forKey: handle) {
            calls[call] = nil
            responses[call] = nil
            grpc.cancel(call, into: &out)
            flush()
        } else if waiting.contains(where: { $0.id == handle }) {
            waiting.removeAll { $0.id == handle }
            retire()
        }
    }

    /// Takes no new calls and closes once the ones under way ended (an address its name no
    /// longer resolves to).
    func retire() {
        goingAway = true
        if waiting.isEmpty, calls.isEmpty { connection?.close() }
    }

    private func start(_ handle: UInt64, path: ByteString, request: [UInt8], timeoutNs: UInt64, done: @escaping Completion) {
        let call = request.withUnsafeBytes { grpc.unary(path: path, request: $0, timeoutNs: timeoutNs, into: &out) }
        guard let call else {
            // No stream may open (the stream limit, or the connection is going away).
            loop.scheduleTimer(afterMs: 0) { _ in done(GRPCStatus(.unavailable, "no stream available on the metastore connection"), [], nil) }
            return
        }
        calls[call] = done
        handles[handle] = call
    }

    /// Closes a connect still in progress; `connectionClosed` then reports it failed.
    private func connectTimedOut(afterMs timeoutMs: UInt64) {
        connectTimer = nil
        guard !opened, let connection else { return }
        connectTimedOutMs = timeoutMs
        connection.close()
    }

    private func cancelConnectTimer() {
        if let connectTimer { loop.cancelTimer(connectTimer) }
        connectTimer = nil
    }

    func connectionOpened(_ connection: Connection) {
        cancelConnectTimer()
        opened = true
        onEvent(self, .connected)
        guard let tls else { return }
        do {
            let hello = try tls.start()
            hello.withUnsafeBytes { connection.write($0) }
        } catch {
            failTLS(tls.describe(error), connection)
        }
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        guard let tls else { return receivedHTTP2(bytes, on: connection) }
        var plaintext: [UInt8] = []
        let reply: (send: [UInt8], closedByPeer: Bool)
        do {
            reply = try tls.receive(bytes, plaintext: &plaintext)
        } catch {
            return failTLS(tls.describe(error), connection)
        }
        reply.send.withUnsafeBytes { connection.write($0) }
        // The handshake may just have completed: the HTTP/2 preface and SETTINGS go out now.
        flush()
        if !plaintext.isEmpty { plaintext.withUnsafeBytes { receivedHTTP2($0, on: connection) } }
        if reply.closedByPeer { connection.close() }
    }

    /// Closes the connection; its calls fail with `reason` (a node that fails verification is
    /// as unreachable as one that refuses the connect).
    private func failTLS(_ reason: String, _ connection: Connection) {
        tlsFailure = reason
        connection.close()
    }

    private func receivedHTTP2(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        var input = bytes
        var finished: [(Completion, GRPCStatus, [HeaderField], [UInt8]?)] = []
        while let event = grpc.next(&input, into: &out) {
            switch event {
            case .ready:
                guard !ready else { continue }
                ready = true
                let queued = waiting
                waiting.removeAll()
                for w in queued { start(w.id, path: w.path, request: w.request, timeoutNs: w.timeoutNs, done: w.done) }
            case .finished(let call, let status, let trailers):
                let response = responses.removeValue(forKey: call)
                if let done = calls.removeValue(forKey: call) {
                    handles = handles.filter { $0.value != call }
                    finished.append((done, status, trailers, response))
                }
            case .goAway:
                goingAway = true
            case .connectionError(let code, let why):
                goingAway = true
                for (_, done) in calls { finished.append((done, GRPCStatus(.unavailable, ByteString("connection error \(code): \(why)")), [], nil)) }
                calls.removeAll()
                handles.removeAll()
                responses.removeAll()
            case .message(let call, let message):
                if calls[call] != nil { responses[call] = message.withBytes { Array($0) } }
            case .responseHeaders:
                continue
            }
        }
        flush()
        if grpc.isClosed || (goingAway && calls.isEmpty) { connection.close() }
        for (done, status, trailers, response) in finished { done(status, trailers, response) }
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        isClosed = true
        self.connection = nil
        cancelConnectTimer()
        let why = connectTimedOutMs.map { "metastore connect timed out after \($0) ms" } ?? tlsFailure
            ?? "metastore connection closed" + (error.map { ": \($0)" } ?? "")
        let reason = GRPCStatus(.unavailable, ByteString(why))
        let pending = Array(calls.values) + waiting.map(\.done)
        calls.removeAll()
        handles.removeAll()
        responses.removeAll()
        waiting.removeAll()
        onEvent(self, opened ? .closed : .connectFailed)
        for done in pending { done(reason, [], nil) }
    }

    private func flush() {
        guard !out.bytes.isEmpty else { return }
        guard let tls else {
            // Writes made while the connect is in progress are queued by the runtime.
            if let connection { out.bytes.withUnsafeBytes { connection.write($0) } }
            return out.bytes.removeAll(keepingCapacity: true)
        }
        guard tls.isEstablished, let connection else { return }
        do {
            let sealed = try tls.seal(out.bytes)
            sealed.withUnsafeBytes { connection.write($0) }
        } catch {
            failTLS(tls.describe(error), connection)
        }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
