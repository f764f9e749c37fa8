import HTTP1
import Prometheus
import Runtime

/// Serves the operational HTTP port: `/ready`, `/metrics`, `/healthz` (ingest-and-ops.md §5.4).
/// One instance per connection, confined to its loop.
final class OperationsHTTPHandler: ConnectionHandler {
    private var parser = HTTP1RequestParser(maxHeadBytes: 16 << 10, maxBodyBytes: 64 << 10)
    private let readiness: Readiness
    private let metrics: SegmentWriterMetrics
    private let connections: Gauge

    init(readiness: Readiness, metrics: SegmentWriterMetrics, connections: Gauge) {
        self.readiness = readiness
        self.metrics = metrics
        self.connections = connections
    }

    func connectionOpened(_ connection: Connection) { connections.increment() }

    func connectionClosed(_ connection: Connection, error: Errno?) { connections.decrement() }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        parser.append(bytes)
        do {
            while let request = try parser.next() {
                let response = respond(to: request)
                send(response, keepAlive: request.keepAlive, on: connection)
                if !request.keepAlive { return connection.close() }
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

    private func send(_ response: HTTP1Response, keepAlive: Bool, on connection: Connection) {
        response.serialize(keepAlive: keepAlive).withUnsafeBytes { connection.write($0) }
    }
}
