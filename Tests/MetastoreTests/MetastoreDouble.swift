import BinaryCoding
import GRPC
import Metastore
import Runtime
import Synchronization

/// `metastore.v1.IndexService/AddBlock` over real h2c gRPC on 127.0.0.1, on a loop of its own:
/// answers every call OK and counts them.
final class MetastoreDouble: Sendable {
    private let group: EventLoopGroup
    let port: Int
    let calls = Counter()

    init() throws {
        group = try EventLoopGroup(loopCount: 1, configuration: testLoopConfiguration)
        let calls = self.calls
        port = Int(try group.listen(host: "127.0.0.1", port: 0) { _ in AddBlockAnswerer(calls: calls) })
        group.start()
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

    init(calls: Counter) { self.calls = calls }

    func connectionOpened(_ connection: Connection) {
        grpc.start(into: &out)
        send(on: connection)
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        var input = bytes
        while let event = grpc.next(&input, into: &out) {
            guard case .halfClosed(let call) = event else { continue }
            calls.add()
            // An empty AddBlockResponse.
            [UInt8]().withUnsafeBytes { grpc.respond(call, message: $0, into: &out) }
        }
        send(on: connection)
    }

    private func send(on connection: Connection) {
        out.bytes.withUnsafeBytes { connection.write($0) }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
