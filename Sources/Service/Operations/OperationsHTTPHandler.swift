import HTTP1
import Prometheus
import Runtime

/// Serves the operational HTTP port: `/ready`, `/metrics`, `/healthz` (ingest-and-ops.md §5.4).
/// One instance per connection, confined to its loop. Go's `http.Server` timeouts bound how
/// long a connection may hold its slot: a request must arrive whole within the read timeout
/// of its first byte (of the accept, for the first request), and a keep-alive connection
/// waits at most the idle timeout for the next one; past either it is closed without a reply.
final class OperationsHTTPHandler: ConnectionHandler {
    /// Go's `ReadTimeout` and `IdleTimeout` resolved: 0 is none, an idle 0 takes the read timeout.
    struct Timeouts: Sendable {
        var readNs: UInt64
        var idleNs: UInt64

        init(readNs: Int64, idleNs: Int64) {
            self.readNs = UInt64(max(0, readNs))
            self.idleNs = idleNs > 0 ? UInt64(idleNs) : self.readNs
        }
    }

    private var parser = HTTP1RequestParser(maxHeadBytes: 16 << 10, maxBodyBytes: 64 << 10)
    private let readiness: Readiness
    private let metrics: SegmentWriterMetrics
    private let connections: Gauge
    private let timeouts: Timeouts
    /// Between requests (nothing of the next one received yet).
    private var betweenRequests = false

    init(readiness: Readiness, metrics: SegmentWriterMetrics, connections: Gauge, timeouts: Timeouts) {
        self.readiness = readiness
        self.metrics = metrics
        self.connections = connections
        self.timeouts = timeouts
    }

    func connectionOpened(_ connection: Connection) {
        connections.increment()
        connection.deadlineNs = Self.deadline(after: timeouts.readNs)
    }

    func connectionClosed(_ connection: Connection, error: Errno?) { connections.decrement() }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        if betweenRequests {
            betweenRequests = false
            connection.deadlineNs = Self.deadline(after: timeouts.readNs)
        }
        parser.append(bytes)
        do {
            while let request = try parser.next() {
                let response = respond(to: request)
                send(response, keepAlive: request.keepAlive, on: connection)
                if !request.keepAlive { return connection.close() }
            }
            if parser.bufferedByteCount == 0 {
                betweenRequests = true
                connection.deadlineNs = Self.deadline(after: timeouts.idleNs)
            }
        } catch {
            send(HTTP1Response(status: error.status, text: error.reason + "\n"), keepAlive: false, on: connection)
            connection.close()
        }
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

    /// A deadline `ns` from now; 0 (none) for a timeout of 0.
    private static func deadline(after ns: UInt64) -> UInt64 {
        ns == 0 ? 0 : EventLoop.monotonicNowNs &+ ns
    }

    private func send(_ response: HTTP1Response, keepAlive: Bool, on connection: Connection) {
        response.serialize(keepAlive: keepAlive).withUnsafeBytes { connection.write($0) }
    }
}
