import BinaryCoding

/// A received gRPC message body: a view into the received bytes when the whole message sat
/// in one DATA frame (valid until the connection's next `next` call), owned otherwise
/// (spanning frames, or decompressed).
public enum GRPCMessage {
    case view(UnsafeRawBufferPointer)
    case owned([UInt8])

    public var count: Int {
        switch self {
        case .view(let v): return v.count
        case .owned(let a): return a.count
        }
    }

    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch self {
        case .view(let v): return try body(v)
        case .owned(let a):
            let result = a.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }
            return try result.get()
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .view(let v): return Array(v)
        case .owned(let a): return a
        }
    }
}

/// Reassembles length-prefixed messages (gRPC PROTOCOL-HTTP2: 1-byte compressed flag,
/// 4-byte big-endian length, body) from a stream's DATA payloads.
struct MessageAssembler {
    static let prefixSize = 5
    let maxMessageBytes: Int
    /// Charged for the room reserved for a message arriving in pieces (nil: not counted).
    let budget: (any GRPCReceiveBudget)?
    /// What this assembler holds charged to `budget` now: the room asked for `body`.
    private(set) var chargedBytes = 0

    private var prefix: [UInt8] = []
    private(set) var body: [UInt8] = []
    private var expected = -1      // body length once the prefix is complete
    private var compressed = false

    init(maxMessageBytes: Int, budget: (any GRPCReceiveBudget)? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.budget = budget
    }

    /// True between messages: a stream may end only here.
    var isIdle: Bool { prefix.isEmpty && expected < 0 }

    /// The next complete message from the front of `data`, or `nil` when `data` ran out first
    /// (what was there is kept).
    mutating func next(_ data: inout UnsafeRawBufferPointer) throws(GRPCStatus) -> (compressed: Bool, GRPCMessage)? {
        if expected < 0 {
            if prefix.isEmpty && data.count >= Self.prefixSize {
                try startMessage(flag: data[0], length: readLength(data, 1))
                data = UnsafeRawBufferPointer(rebasing: data[Self.prefixSize...])
                if data.count >= expected {
                    let message = UnsafeRawBufferPointer(rebasing: data[..<expected])
                    data = UnsafeRawBufferPointer(rebasing: data[expected...])
                    expected = -1
                    return (compressed, .view(message))
                }
            } else {
                let take = min(Self.prefixSize - prefix.count, data.count)
                prefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[..<take]))
                data = UnsafeRawBufferPointer(rebasing: data[take...])
                guard prefix.count == Self.prefixSize else { return nil }
                let length = prefix.withUnsafeBytes { readLength($0, 1) }
                try startMessage(flag: prefix[0], length: length)
                prefix.removeAll(keepingCapacity: true)
            }
            body = []
        }
        let take = min(expected - body.count, data.count)
        try makeRoom(for: body.count + take)
        body.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[..<take]))
        data = UnsafeRawBufferPointer(rebasing: data[take...])
        guard body.count == expected else { return nil }
        expected = -1
        let message = body
        body = []
        releaseCharge()
        return (compressed, .owned(message))
    }

    /// Grows `body` to hold `needed` bytes, doubling (never past the declared length) so a
    /// message in many pieces is copied O(log n) times. The room is charged before it is
    /// reserved: a declared length alone reserves nothing, and the budget sees what is held.
    private mutating func makeRoom(for needed: Int) throws(GRPCStatus) {
        guard needed > body.capacity else { return }
        var grown = BufferGrowth.capacity(current: body.capacity, needed: needed, limit: expected)
        if let budget {
            guard let granted = budget.reserve(atLeast: needed - chargedBytes, upTo: grown - chargedBytes) else {
                throw GRPCStatus(.resourceExhausted, ByteString(
                    "grpc: memory budget exceeded while receiving a message of \(expected) bytes (\(body.count) received)"))
            }
            chargedBytes += granted
            grown = chargedBytes
        }
        body.reserveCapacity(grown)
    }

    /// Gives back what the partial body holds charged; call it when the call ends mid-message.
    mutating func releaseCharge() {
        if chargedBytes > 0 { budget?.release(chargedBytes) }
        chargedBytes = 0
    }

    private mutating func startMessage(flag: UInt8, length: Int) throws(GRPCStatus) {
        guard flag <= 1 else { throw GRPCStatus(.internalError, ByteString("grpc: invalid compressed flag \(flag)")) }
        guard length <= maxMessageBytes else {
            throw GRPCStatus(.resourceExhausted, ByteString("grpc: received message larger than max (\(length) vs. \(maxMessageBytes))"))
        }
        compressed = flag == 1
        expected = length
    }

    private func readLength(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }
}
