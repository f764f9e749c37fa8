import BinaryCoding
import Foundation
import GRPC
import HTTP2
import Metastore

/// What the metastore client's protocol stack promises whatever the server (or a proxy in
/// front of it) answers an AddBlock call with: no trap, response messages within the receive
/// limit, and a leader hint read from `grpc-status-details-bin` or ignored. The answer is fed
/// in reads of varying sizes; the call starts once the server's SETTINGS arrive, as the
/// client's connection does.
public struct GRPCClientCheck {
    public static let maxMessageBytes = 64 << 10
    static let request: [UInt8] = Array("an AddBlock request".utf8)

    public struct Summary: Sendable, CustomStringConvertible {
        public var calls = 0
        public var messages = 0
        public var finished: [GRPCStatusCode] = []
        public var leaderHints = 0
        public var connectionError: HTTP2ErrorCode?
        public var description: String {
            "calls \(calls), messages \(messages), finished \(finished.map { "\($0)" }), leader hints \(leaderHints), connection error \(connectionError.map { "\($0)" } ?? "none")"
        }
    }

    public init() {}

    public func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> Summary {
        let client = Self.client()
        var out = ByteWriter()
        client.start(into: &out)
        var summary = Summary()
        for read in SocketReads(bytes) where summary.connectionError == nil {
            var input = read
            while let event = client.next(&input, into: &out) {
                switch event {
                case .ready:
                    if summary.calls == 0, Self.startCall(client, into: &out) { summary.calls += 1 }
                case .message(_, let message):
                    summary.messages += 1
                    guard message.count <= Self.maxMessageBytes else {
                        throw FuzzViolation("a response of \(message.count) bytes passed the \(Self.maxMessageBytes)-byte limit")
                    }
                case .finished(_, let status, let trailers):
                    summary.finished.append(status.code)
                    if trailers.first(named: StatusDetails.headerName).flatMap(StatusDetails.raftLeader(headerValue:)) != nil {
                        summary.leaderHints += 1
                    }
                case .connectionError(let code, _):
                    summary.connectionError = code
                case .responseHeaders, .goAway:
                    break
                }
            }
            out.bytes.removeAll(keepingCapacity: true)
        }
        return summary
    }

    private static func client() -> GRPCClientConnection {
        var configuration = GRPCClientConfiguration(authority: "metastore:9095")
        configuration.maxReceiveMessageBytes = maxMessageBytes
        configuration.maxDecompressedMessageBytes = maxMessageBytes
        return GRPCClientConnection(configuration: configuration)
    }

    private static func startCall(_ client: GRPCClientConnection, into out: inout ByteWriter) -> Bool {
        request.withUnsafeBytes { client.unary(path: MetastoreClient.addBlockPath, request: $0, timeoutNs: 5_000_000_000, into: &out) } != nil
    }

    /// What our server sends a client making that call (a read-size byte first): an empty
    /// AddBlockResponse, or UNAVAILABLE naming the leader in the status details, as a
    /// metastore follower answers.
    public static var seeds: [(name: String, bytes: [UInt8])] {
        [("ok", false), ("not-leader", true)].map { name, notLeader in
            let client = client(), server = GRPCServerConnection(configuration: GRPCServerConfiguration(methods: [MetastoreClient.addBlockPath]))
            var toServer = ByteWriter(), toClient = ByteWriter()
            client.start(into: &toServer)
            server.start(into: &toClient)
            toClient.bytes.withUnsafeBytes { var input = $0; while client.next(&input, into: &toServer) != nil {} }
            _ = startCall(client, into: &toServer)
            var answer: [UInt8] = [0]
            answer.append(contentsOf: toClient.bytes)
            toClient.bytes.removeAll()
            toServer.bytes.withUnsafeBytes { raw in
                var input = raw
                while let event = server.next(&input, into: &toClient) {
                    guard case .halfClosed(let call) = event else { continue }
                    if notLeader {
                        server.finish(call, status: GRPCStatus(.unavailable, "not the leader"),
                                      trailers: [HeaderField(StatusDetails.headerName, ByteString(Self.leaderDetails))], into: &toClient)
                    } else {
                        [UInt8]().withUnsafeBytes { server.respond(call, message: $0, into: &toClient) }
                    }
                }
            }
            answer.append(contentsOf: toClient.bytes)
            return (name, answer)
        }
    }

    /// base64 of a `google.rpc.Status` whose details hold a `raft_node.RaftNode`.
    static var leaderDetails: String {
        var node = ByteWriter()
        node.appendStringField(1, "metastore-1")
        node.appendStringField(2, "10.0.0.2:9095")
        var status = ByteWriter()
        status.appendVarintField(1, 14)
        status.appendStringField(2, "not the leader")
        status.appendMessageField(3) { any in
            any.appendBytesField(1, StatusDetails.raftNodeTypeURL.bytes)
            any.appendBytesField(2, node.bytes)
        }
        return Data(status.bytes).base64EncodedString()
    }
}
