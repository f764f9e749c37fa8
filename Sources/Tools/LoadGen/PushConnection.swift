import BinaryCoding
import GRPC
import HTTP2
import Runtime

/// A push on the wire: when its latency clock started and what it carried.
struct InFlightPush {
    /// Closed loop: when it was sent; open loop: when it was due (pacer).
    var startNs: UInt64
    var sentBytes: Int
    var rawBytes: Int
    var profileID: UInt128
}

/// One h2c connection to the segment-writer carrying up to `streamsMax` concurrent Push
/// calls (loop-confined). Calls start only after the server's SETTINGS; finished calls are
/// handed to the driver after the received bytes were processed, so the driver may start
/// the next call on this connection without re-entering the parser.
final class PushConnection: ConnectionHandler {
    static let pushPath: ByteString = "/segmentwriter.v1.SegmentWriterService/Push"

    private unowned let driver: LoopDriver
    private let grpc: GRPCClientConnection
    let streamsMax: Int
    private var connection: Connection?
    private var ready = false
    private var goingAway = false
    private(set) var isClosed = false
    private var inFlight: [CallID: InFlightPush] = [:]
    private var out = ByteWriter()

    init(driver: LoopDriver, loop: EventLoop, address: EndpointAddress, authority: String, streamsMax: Int) throws(Errno) {
        self.driver = driver
        self.streamsMax = streamsMax
        grpc = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: ByteString(authority)))
        out.bytes.reserveCapacity(1 << 20)
        let id = try loop.connect(to: address, handler: self)
        connection = loop.connection(id)
        grpc.start(into: &out)
        flush()
    }

    var inFlightCount: Int { inFlight.count }
    var hasCapacity: Bool { ready && !goingAway && !isClosed && !grpc.isClosed && inFlight.count < streamsMax }

    /// Starts one Push with `message` as its body; false when no stream could open.
    func send(_ message: UnsafeRawBufferPointer, _ push: InFlightPush) -> Bool {
        guard hasCapacity, let call = grpc.unary(path: Self.pushPath, request: message, into: &out) else { return false }
        inFlight[call] = push
        flush()
        return true
    }

    /// Abandons every call (RST_STREAM) and closes; their pushes are returned.
    func abandon() -> [InFlightPush] {
        let pending = Array(inFlight.values)
        for call in inFlight.keys { grpc.cancel(call, into: &out) }
        inFlight.removeAll()
        flush()
        goingAway = true
        connection?.close()
        return pending
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        var input = bytes
        var finished: [(InFlightPush, GRPCStatus)] = []
        var becameReady = false
        while let event = grpc.next(&input, into: &out) {
            switch event {
            case .ready:
                becameReady = !ready
                ready = true
            case .finished(let call, let status, _):
                if let push = inFlight.removeValue(forKey: call) { finished.append((push, status)) }
            case .goAway:
                goingAway = true
            case .connectionError(let code, let why):
                goingAway = true
                let status = GRPCStatus(.unavailable, ByteString("connection error \(code): \(why)"))
                for push in inFlight.values { finished.append((push, status)) }
                inFlight.removeAll()
            case .responseHeaders, .message:
                continue
            }
        }
        flush()
        if grpc.isClosed || (goingAway && inFlight.isEmpty) { connection.close() }
        let nowNs = EventLoop.monotonicNowNs
        for (push, status) in finished { driver.pushFinished(push, status, nowNs: nowNs) }
        if becameReady || !finished.isEmpty { driver.connectionHasRoom(self) }
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        isClosed = true
        self.connection = nil
        let status = GRPCStatus(.unavailable, ByteString("connection closed" + (error.map { ": \($0)" } ?? "")))
        let pending = Array(inFlight.values)
        inFlight.removeAll()
        let nowNs = EventLoop.monotonicNowNs
        for push in pending { driver.pushFinished(push, status, nowNs: nowNs) }
        driver.connectionClosed(self)
    }

    private func flush() {
        guard !out.bytes.isEmpty else { return }
        if let connection { out.bytes.withUnsafeBytes { connection.write($0) } }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
