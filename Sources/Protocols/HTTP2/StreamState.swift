/// Per-stream state (RFC 9113 §5.1). Only open and half-closed streams are stored; idle and
/// closed are derived from stream ids, so state is bounded by the concurrency limits.
struct StreamState {
    let peerInitiated: Bool
    /// We may still send (not half-closed local).
    var localOpen = true
    /// The peer may still send (not half-closed remote).
    var remoteOpen = true
    var receivedHeaders = false
    var sendWindow: Int
    var recvWindow: Int
    /// Bytes consumed by the application not yet returned with WINDOW_UPDATE.
    var recvUnacked = 0
    /// Data waiting for send window, and what follows it.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    var endStreamQueued = false
    var trailersQueued: [HeaderField]? = nil

    init(peerInitiated: Bool, sendWindow: Int, recvWindow: Int) {
        self.peerInitiated = peerInitiated
        self.sendWindow = sendWindow
        self.recvWindow = recvWindow
    }

    var outboundRemaining: Int { outbound.count - outboundOffset }
    var hasPendingSend: Bool { localOpen && (outboundRemaining > 0 || endStreamQueued || trailersQueued != nil) }
    var isClosed: Bool { !localOpen && !remoteOpen }
}
