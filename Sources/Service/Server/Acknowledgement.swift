import GRPC
import Runtime

/// A Push waiting for its segment to be durable: where to send the answer. The receiving
/// loop owns the connection, so the answer is posted there (Runtime README, threading).
struct PendingAck: Sendable {
    let connection: ConnectionID
    let call: CallID
}

/// A batch of answers for the Pushes of one connection loop, all with the same status.
struct AckBatch: Sendable {
    var acks: [PendingAck]
    var status: GRPCStatus
}
