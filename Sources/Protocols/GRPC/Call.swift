import BinaryCoding
import HTTP2

/// One gRPC call, named by its HTTP/2 stream.
public struct CallID: Hashable, Sendable, CustomStringConvertible {
    public let stream: StreamID
    public init(_ stream: StreamID) { self.stream = stream }
    public var description: String { "call \(stream)" }
}

/// Well-known header names and values (gRPC PROTOCOL-HTTP2).
enum GRPCHeader {
    static let method: ByteString = ":method"
    static let scheme: ByteString = ":scheme"
    static let path: ByteString = ":path"
    static let authority: ByteString = ":authority"
    static let status: ByteString = ":status"
    static let contentType: ByteString = "content-type"
    static let te: ByteString = "te"
    static let userAgent: ByteString = "user-agent"
    static let grpcEncoding: ByteString = "grpc-encoding"
    static let grpcAcceptEncoding: ByteString = "grpc-accept-encoding"
    static let grpcTimeout: ByteString = "grpc-timeout"
    static let grpcStatus: ByteString = "grpc-status"
    static let grpcMessage: ByteString = "grpc-message"
    static let applicationGRPC: ByteString = "application/grpc"
    static let gzip: ByteString = "gzip"
    static let snappy: ByteString = "snappy"
    /// What this implementation decompresses, for `grpc-accept-encoding`.
    static let acceptedEncodings: ByteString = "gzip,snappy"
    static let identity: ByteString = "identity"
}

/// A message encoding a peer may name in `grpc-encoding`.
enum MessageEncoding {
    case identity, gzip, snappy

    init?(_ name: ByteString?) {
        switch name {
        case nil, GRPCHeader.identity?: self = .identity
        case GRPCHeader.gzip?: self = .gzip
        case GRPCHeader.snappy?: self = .snappy
        default: return nil
        }
    }
}

/// What both sides keep per call on the receiving half.
struct InboundCall {
    var assembler: MessageAssembler
    /// The peer's `grpc-encoding`.
    var encoding: MessageEncoding
    let decompressedBytesMax: Int
    /// A unary call's response message has not arrived yet (client side).
    var awaitsUnaryResponse = false

    /// Turns an assembled message into what the application gets, decompressing if flagged.
    func deliver(compressed: Bool, _ message: GRPCMessage, gzip: GzipCodec) throws(GRPCStatus) -> GRPCMessage {
        guard compressed else { return message }
        let limit = decompressedBytesMax
        let result: Result<[UInt8], DecompressionFailure>
        switch encoding {
        case .identity:
            throw GRPCStatus(.internalError, "grpc: compressed flag set with identity or empty encoding")
        case .gzip:
            result = message.withBytes { raw in Result { () throws(DecompressionFailure) in try gzip.decompress(raw, limit: limit) } }
        case .snappy:
            result = message.withBytes { raw in Result { () throws(DecompressionFailure) in try SnappyFramed.decompress(raw, limit: limit) } }
        }
        switch result {
        case .success(let bytes): return .owned(bytes)
        case .failure(.exceedsLimit(let limit)):
            throw GRPCStatus(.resourceExhausted, ByteString("grpc: received message after decompression larger than max \(limit)"))
        case .failure(.corrupt):
            throw GRPCStatus(.internalError, "grpc: failed to decompress the received message: invalid data")
        }
    }
}

/// A DATA payload being cut into messages, one event at a time.
struct PendingData {
    let stream: StreamID
    var remaining: UnsafeRawBufferPointer
    let endStream: Bool
    /// Bytes to return to flow control once the payload is used up.
    let flowBytes: Int
}

extension ByteWriter {
    /// The 5-byte gRPC message prefix and the body.
    mutating func appendGRPCMessage(_ body: UnsafeRawBufferPointer, compressed: Bool) {
        append(compressed ? 1 : 0)
        appendBE32(UInt32(body.count))
        append(body)
    }
}
