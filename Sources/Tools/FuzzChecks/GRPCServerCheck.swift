import BinaryCoding
import GRPC
import HTTP2

/// What the server's protocol stack (HTTP/2 framing and flow control, HPACK, gRPC framing,
/// gzip and snappy) promises whatever a client sends: no trap, a bounded amount of work, every
/// message within the receive limit, and every byte charged to the shared receive budget given
/// back once the connection is gone. The bytes are fed as a socket would hand them over, in
/// reads of varying sizes (so frames and messages span reads), and the application side
/// answers every call, as the service does.
public struct GRPCServerCheck {
    /// The service's methods (`GRPCConnectionHandler.methods`).
    public static let methods: [ByteString] = ["/segmentwriter.v1.SegmentWriterService/Push", GRPCHealth.checkPath, GRPCHealth.watchPath]
    /// Small limits, so that inputs a fuzzer can make reach them.
    public static let maxMessageBytes = 64 << 10
    public static let budgetBytes = 256 << 10

    /// The receive budget's ledger.
    final class Budget: GRPCReceiveBudget, @unchecked Sendable {
        var charged = 0
        func reserve(atLeast minimum: Int, upTo maximum: Int) -> Int? {
            let granted = min(maximum, GRPCServerCheck.budgetBytes - charged)
            guard granted >= minimum else { return nil }
            charged += granted
            return granted
        }
        func release(_ bytes: Int) { charged -= bytes }
    }

    public struct Summary: Equatable, Sendable, CustomStringConvertible {
        public var calls = 0
        public var messages = 0
        public var connectionError: HTTP2ErrorCode?
        public var description: String { "calls \(calls), messages \(messages), connection error \(connectionError.map { "\($0)" } ?? "none")" }
    }

    public init() {}

    /// A client's bytes into a fresh server connection, in `SocketReads`.
    public func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> Summary {
        let budget = Budget()
        var configuration = GRPCServerConfiguration(methods: Self.methods)
        configuration.maxReceiveMessageBytes = Self.maxMessageBytes
        configuration.maxDecompressedMessageBytes = Self.maxMessageBytes
        configuration.receiveBudget = budget
        let connection = GRPCServerConnection(configuration: configuration)
        var out = ByteWriter()
        connection.start(into: &out)
        var summary = Summary()
        for read in SocketReads(bytes) where summary.connectionError == nil {
            var input = read
            while let event = connection.next(&input, into: &out) {
                try handle(event, connection, &out, &summary)
            }
            out.bytes.removeAll(keepingCapacity: true)
        }
        connection.closed()
        guard budget.charged == 0 else {
            throw FuzzViolation("\(budget.charged) bytes still charged to the receive budget after the connection closed (\(summary))")
        }
        return summary
    }

    /// What a grpc-go client sends for unary Pushes of `messages` (gzip-compressed when
    /// `gzip`), then a health check: a seed for fuzzing, behind the read-size byte `check` reads.
    public static func clientBytes(pushing messages: [[UInt8]], gzip: Bool, readSize: UInt8) -> [UInt8] {
        let client = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: "localhost:9095"))
        var out = ByteWriter()
        out.bytes.append(readSize)
        client.start(into: &out)
        for m in messages {
            _ = m.withUnsafeBytes { client.unary(path: methods[0], request: $0, timeoutNs: 10_000_000_000, gzip: gzip, into: &out) }
        }
        _ = [UInt8]().withUnsafeBytes { client.unary(path: methods[1], request: $0, into: &out) }
        return out.bytes
    }

    private func handle(_ event: GRPCServerEvent, _ connection: GRPCServerConnection, _ out: inout ByteWriter,
                        _ summary: inout Summary) throws(FuzzViolation) {
        switch event {
        case .call(_, let method, _, _):
            summary.calls += 1
            guard Self.methods.indices.contains(method) else {
                throw FuzzViolation("a call routed to method \(method) of \(Self.methods.count)")
            }
        case .message(let call, let message):
            summary.messages += 1
            guard message.count <= Self.maxMessageBytes else {
                throw FuzzViolation("a message of \(message.count) bytes passed the \(Self.maxMessageBytes)-byte limit")
            }
            // Every byte is read (the sanitizer checks the view), and the call answered at once.
            let sum = message.withBytes { $0.reduce(0) { $0 &+ Int($1) } }
            withExtendedLifetime(sum) {}
            [UInt8](repeating: 0, count: 4).withUnsafeBytes { connection.respond(call, message: $0, into: &out) }
        case .halfClosed(let call):
            connection.finish(call, status: GRPCStatus(.ok, ""), into: &out)
        case .connectionError(let code, _):
            summary.connectionError = code
        case .cancelled, .failed, .goAway:
            break
        }
    }
}
