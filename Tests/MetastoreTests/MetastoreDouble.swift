import BinaryCoding
import Foundation
import GRPC
import HTTP2
import Metastore
import Runtime
import Synchronization

/// `metastore.v1.IndexService/AddBlock` over real h2c gRPC on 127.0.0.1, on a loop of its own:
/// answers every call OK and counts them; a follower (`leaderHint` set) answers UNAVAILABLE
/// with that `RaftNode` in the status details instead, as a metastore node that is not the
/// leader does (segment-object.md §11.2).
final class MetastoreDouble: Sendable {
    private let group: EventLoopGroup
    let port: Int
    let calls = Counter()

    init(leaderHint: RaftNodeHint? = nil) throws {
        group = try EventLoopGroup(loopCount: 1, configuration: testLoopConfiguration)
        let calls = self.calls
        port = Int(try group.listen(host: "127.0.0.1", port: 0) { _ in AddBlockAnswerer(calls: calls, leaderHint: leaderHint) })
        group.start()
    }

    /// This double as a configured node, `127.0.0.1:port/id` (an entry without `/raft-id` has
    /// its host as ID).
    func endpoint(id: String = "127.0.0.1") -> MetastoreEndpoint {
        MetastoreEndpoint(node: MetastoreNode(id: id, host: "127.0.0.1", port: UInt16(port)),
                          addresses: [EndpointAddress.literal("127.0.0.1", port: port)!])
    }

    func stop() { group.shutdown() }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Loops for tests: unpinned, no io_uring (sockets never need it).
let testLoopConfiguration: EventLoopConfiguration = {
    var configuration = EventLoopConfiguration()
    configuration.pinThreads = false
    configuration.ringEntries = 0
    return configuration
}()

private final class AddBlockAnswerer: ConnectionHandler {
    private let grpc = GRPCServerConnection(configuration: GRPCServerConfiguration(methods: [MetastoreClient.addBlockPath]))
    private var out = ByteWriter()
    private let calls: Counter
    private let leaderHint: RaftNodeHint?

    init(calls: Counter, leaderHint: RaftNodeHint?) {
        self.calls = calls
        self.leaderHint = leaderHint
    }

    func connectionOpened(_ connection: Connection) {
        grpc.start(into: &out)
        send(on: connection)
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        var input = bytes
        while let event = grpc.next(&input, into: &out) {
            guard case .halfClosed(let call) = event else { continue }
            calls.add()
            if let leaderHint {
                grpc.finish(call, status: GRPCStatus(.unavailable, "node is not the leader"),
                            trailers: [HeaderField(StatusDetails.headerName, Self.statusDetails(leaderHint))], into: &out)
                continue
            }
            // An empty AddBlockResponse.
            [UInt8]().withUnsafeBytes { grpc.respond(call, message: $0, into: &out) }
        }
        send(on: connection)
    }

    /// `google.rpc.Status{14, …, [Any(RaftNode)]}`, base64 as the `-bin` header carries it.
    private static func statusDetails(_ hint: RaftNodeHint) -> ByteString {
        var status = ByteWriter()
        status.appendVarintField(1, 14)
        status.appendMessageField(3) { any in
            any.appendStringField(1, "type.googleapis.com/raft_node.RaftNode")
            any.appendMessageField(2) { node in
                node.appendStringField(1, hint.id)
                node.appendStringField(2, hint.address)
            }
        }
        return ByteString(Data(status.bytes).base64EncodedString())
    }

    private func send(on connection: Connection) {
        out.bytes.withUnsafeBytes { connection.write($0) }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
