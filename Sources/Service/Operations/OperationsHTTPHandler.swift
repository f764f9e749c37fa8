import HTTP1
import Prometheus
import Runtime

/// Serves the operational HTTP port: `/ready`, `/metrics`, `/healthz` (ingest-and-ops.md §5.4).
/// One instance per connection, confined to its loop. Go's `http.Server` timeouts bound how
/// long a connection may hold its slot: a request's head must arrive within the read-header
/// timeout of its first byte (of the accept, for the first request) and the whole request
/// within the read timeout, a keep-alive connection waits at most the idle timeout for the
/// next one, and responses must be taken by the client within the write timeout of being
/// written; past any of them it is closed without a reply.
final class OperationsHTTPHandler: ConnectionHandler {
    /// Go's `ReadHeaderTimeout`, `ReadTimeout`, `IdleTimeout` and `WriteTimeout` resolved: 0 is
    /// none, a read-header or idle 0 takes the read timeout.
    struct Timeouts: Sendable {
        var readHeaderNs: UInt64
        var readNs: UInt64
        var idleNs: UInt64
        var writeNs: UInt64

        init(readHeaderNs: Int64 = 0, readNs: Int64, idleNs: Int64, writeNs: Int64) {
            self.readNs = UInt64(max(0, readNs))
            // Go: 0 takes ReadTimeout, a negative value is none.
            self.readHeaderNs = readHeaderNs > 0 ? UInt64(readHeaderNs) : readHeaderNs < 0 ? 0 : self.readNs
            self.idleNs = idleNs > 0 ? UInt64(idleNs) : self.readNs
            self.writeNs = UInt64(max(0, writeNs))
        }
    }

    private var parser = HTTP1RequestParser(maxHeadBytes: 16 << 10, maxBodyBytes: 64 << 10)
    private let readiness: Readiness
    private let metrics: SegmentWriterMetrics
    private let connections: Gauge
    private let timeouts: Timeouts
    /// Between requests (nothing of the next one received yet) since `phaseStartNs`; else
    /// reading a request whose first byte came then.
    private var betweenRequests = false
    private var phaseStartNs: UInt64 = 0
    /// Responses still queued must be gone by then (0: nothing queued at the last write).
    private var writeDeadlineNs: UInt64 = 0
    /// The client closed its side: no more requests will come.
    private var inputEnded = false

    init(readiness: Readiness, metrics: SegmentWriterMetrics, connections: Gauge, timeouts: Timeouts) {
        self.readiness = readiness
        self.metrics = metrics
        self.connections = connections
        self.timeouts = timeouts
    }

    func connectionOpened(_ connection: Connection) {
        connections.increment()
        phaseStartNs = EventLoop.monotonicNowNs
        rearm(connection)
    }

    func connectionClosed(_ connection: Connection, error: Errno?) { connections.decrement() }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        if betweenRequests {
            betweenRequests = false
            phaseStartNs = EventLoop.monotonicNowNs
        }
        parser.append(bytes)
        serve(connection)
    }

    /// Responses queued past the loop's high watermark have drained: the requests that waited
    /// behind them are answered now.
    func connectionWritable(_ connection: Connection) { serve(connection) }

    /// The client sent all it will: what it sent whole is still answered, then the connection
    /// closes.
    func inputClosed(_ connection: Connection) {
        inputEnded = true
        serve(connection)
    }

    /// Answers the buffered requests in order while the responses queued for the client stay
    /// under the loop's high watermark (`isWritable`); the rest wait for `connectionWritable`. Go's server
    /// writes a response before it reads the next request, so a client that pipelines requests
    /// and reads nothing holds up only itself; answering every buffered request at once let 64
    /// KiB of `GET /metrics` ask for thousands of expositions, each built on the loop.
    private func serve(_ connection: Connection) {
        do {
            while connection.isOpen, connection.isWritable, let request = try parser.next() {
                let response = respond(to: request)
                send(response, keepAlive: request.keepAlive, on: connection)
                if !request.keepAlive {
                    connection.close()
                    break
                }
                // The next buffered request is read from now, as Go reads it after this answer.
                phaseStartNs = EventLoop.monotonicNowNs
            }
            if parser.bufferedByteCount == 0 {
                betweenRequests = true
                phaseStartNs = EventLoop.monotonicNowNs
            }
        } catch {
            send(HTTP1Response(status: error.status, text: error.reason + "\n"), keepAlive: false, on: connection)
            connection.close()
        }
        // Nothing more will come: once no whole request is left to answer, close (orderly).
        if inputEnded && connection.isOpen && connection.isWritable { connection.close() }
        if connection.outboundQueuedBytes > 0 && timeouts.writeNs > 0 {
            writeDeadlineNs = EventLoop.monotonicNowNs + timeouts.writeNs
        }
        rearm(connection)
    }

    /// A response the client did not take in time: closed at once (its output cannot drain).
    /// Otherwise the read or idle timeout passed: closed too, unless the queue has drained and
    /// only the write deadline was due.
    func deadlinePassed(_ connection: Connection) {
        let now = EventLoop.monotonicNowNs
        if writeDeadlineNs != 0 {
            if connection.outboundQueuedBytes > 0 && now >= writeDeadlineNs { return connection.closeNow() }
            if connection.outboundQueuedBytes == 0 { writeDeadlineNs = 0 }
        }
        if connection.isOpen, let readOrIdle = readOrIdleDeadline(), now >= readOrIdle { return connection.close() }
        rearm(connection)
    }

    private func readOrIdleDeadline() -> UInt64? {
        let timeout = betweenRequests ? timeouts.idleNs : parser.hasPendingHead ? timeouts.readNs : timeouts.readHeaderNs
        return timeout == 0 ? nil : phaseStartNs + timeout
    }

    private func rearm(_ connection: Connection) {
        let read = connection.isOpen ? readOrIdleDeadline() : nil
        let write = writeDeadlineNs == 0 ? nil : writeDeadlineNs
        connection.deadlineNs = [read, write].compactMap { $0 }.min() ?? 0
    }

    func respond(to request: HTTP1Request) -> HTTP1Response {
        guard request.method == "GET" else {
            return HTTP1Response(status: 405, text: "method not allowed\n")
        }
        switch request.path {
        case "/ready":
            switch readiness.state {
            case .serving:
                if let wait = readiness.ringWait { return HTTP1Response(status: 503, text: "Segment Writer not ready: \(wait)\n") }
                return HTTP1Response(status: 200, text: "ready\n")
            case .delayingShutdown, .leavingRing: return HTTP1Response(status: 503, text: "Segment Writer shutting down\n")
            case let state: return HTTP1Response(status: 503, text: "Segment Writer not ready: \(state)\n")
            }
        case "/healthz":
            return HTTP1Response(status: 200, text: "ok\n")
        case "/metrics":
            return HTTP1Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                 body: metrics.exposition())
        default:
            return HTTP1Response(status: 404, text: "not found\n")
        }
    }

    private func send(_ response: HTTP1Response, keepAlive: Bool, on connection: Connection) {
        response.serialize(keepAlive: keepAlive).withUnsafeBytes { connection.write($0) }
    }
}
