import BinaryCoding
import HTTP2

public struct GRPCClientConfiguration: Sendable {
    public var http2: HTTP2Configuration = .client
    public var authority: ByteString
    public var userAgent: ByteString = "grpc-go/1.82.1"
    public var maxReceiveMessageBytes = 100 << 20
    public var maxDecompressedMessageBytes = 100 << 20

    public init(authority: ByteString) { self.authority = authority }
}

public enum GRPCClientEvent {
    /// The server's SETTINGS arrived: calls may start.
    case ready
    case responseHeaders(CallID, [HeaderField])
    /// One response message; a `.view` is valid until the next `next` call.
    case message(CallID, GRPCMessage)
    /// The call is over: status from trailers, or derived from HTTP status or reset.
    case finished(CallID, GRPCStatus, trailers: [HeaderField])
    case goAway(lastStreamID: StreamID, HTTP2ErrorCode)
    case connectionError(HTTP2ErrorCode, String)
}

/// A sans-I/O gRPC client connection (unary and client-side framing), sending what grpc-go
/// sends (ingest-and-ops.md §1.6).
public final class GRPCClientConnection {
    public let configuration: GRPCClientConfiguration
    public let http2: HTTP2Connection
    private var calls: [StreamID: InboundCall] = [:]
    private var pending: PendingData?
    /// Calls a GOAWAY showed the server never processed, still to be reported.
    private var unprocessed: [StreamID] = []
    private let gzip = GzipCodec()
    private var scratch = ByteWriter()
    private var compressScratch: [UInt8] = []

    public init(configuration: GRPCClientConfiguration) {
        self.configuration = configuration
        http2 = HTTP2Connection(role: .client, configuration: configuration.http2)
    }

    public var activeCallCount: Int { calls.count }
    /// A connection error ended the connection: flush what was written, then close the socket.
    public var isClosed: Bool { http2.isClosed }
    /// After GOAWAY (either way) every stream finished: the socket can be closed.
    public var isDrained: Bool { http2.isDrained }

    public func start(into out: inout ByteWriter) { http2.start(into: &out) }

    /// Opens a call: request headers as grpc-go orders them. `nil` if no stream may open now.
    public func startCall(path: ByteString, metadata: [HeaderField] = [], timeoutNs: UInt64? = nil, gzip compressed: Bool = false,
                          into out: inout ByteWriter) -> CallID? {
        var fields = [
            HeaderField(GRPCHeader.method, "POST"),
            HeaderField(GRPCHeader.scheme, "http"),
            HeaderField(GRPCHeader.path, path),
            HeaderField(GRPCHeader.authority, configuration.authority),
            HeaderField(GRPCHeader.contentType, GRPCHeader.applicationGRPC),
            HeaderField(GRPCHeader.userAgent, configuration.userAgent),
            HeaderField(GRPCHeader.te, "trailers"),
        ]
        if compressed { fields.append(HeaderField(GRPCHeader.grpcEncoding, GRPCHeader.gzip)) }
        fields.append(HeaderField(GRPCHeader.grpcAcceptEncoding, GRPCHeader.acceptedEncodings))
        if let ns = timeoutNs { fields.append(HeaderField(GRPCHeader.grpcTimeout, GRPCTimeout.encode(nanoseconds: ns))) }
        fields.append(contentsOf: metadata)
        guard let sid = http2.openStream(fields, endStream: false, into: &out) else { return nil }
        calls[sid] = InboundCall(assembler: MessageAssembler(maxMessageBytes: configuration.maxReceiveMessageBytes),
                                 encoding: .identity, decompressedBytesMax: configuration.maxDecompressedMessageBytes)
        return CallID(sid)
    }

    /// Sends one message, gzip-compressed when `compressed` (the call must have been started
    /// with `gzip: true`); `endStream` half-closes the request.
    public func sendMessage(_ call: CallID, _ body: UnsafeRawBufferPointer, compressed: Bool = false, endStream: Bool,
                            into out: inout ByteWriter) {
        scratch.bytes.removeAll(keepingCapacity: true)
        if compressed {
            compressScratch.removeAll(keepingCapacity: true)
            gzip.compress(body, into: &compressScratch)
            compressScratch.withUnsafeBytes { scratch.appendGRPCMessage($0, compressed: true) }
        } else {
            scratch.appendGRPCMessage(body, compressed: false)
        }
        scratch.bytes.withUnsafeBytes { http2.sendData($0, on: call.stream, endStream: endStream, into: &out) }
    }

    /// A unary call: headers, one message, END_STREAM.
    public func unary(path: ByteString, request: UnsafeRawBufferPointer, metadata: [HeaderField] = [], timeoutNs: UInt64? = nil,
                      gzip compressed: Bool = false, into out: inout ByteWriter) -> CallID? {
        guard let call = startCall(path: path, metadata: metadata, timeoutNs: timeoutNs, gzip: compressed, into: &out) else { return nil }
        calls[call.stream]?.awaitsUnaryResponse = true
        sendMessage(call, request, compressed: compressed, endStream: true, into: &out)
        return call
    }

    /// Abandons a call (what grpc-go does when the context ends): RST_STREAM(CANCEL).
    public func cancel(_ call: CallID, into out: inout ByteWriter) {
        guard calls.removeValue(forKey: call.stream) != nil else { return }
        http2.resetStream(call.stream, .cancel, into: &out)
    }

    /// As `GRPCServerConnection.next`: keep `input`'s memory untouched until this returns `nil`.
    public func next(_ input: inout UnsafeRawBufferPointer, into out: inout ByteWriter) -> GRPCClientEvent? {
        while true {
            if let sid = unprocessed.popLast() {
                return .finished(CallID(sid), GRPCStatus(.unavailable, "the connection is draining"), trailers: [])
            }
            if pending != nil, let event = nextMessage(into: &out) { return event }
            guard let event = http2.next(&input, into: &out) else { return nil }
            switch event {
            case .settings:
                return .ready
            case .headers(let sid, let fields, let endStream):
                if let e = receiveHeaders(sid, fields, endStream: endStream, into: &out) { return e }
            case .data(let sid, let body, let endStream):
                pending = PendingData(stream: sid, remaining: body, endStream: endStream, flowBytes: body.count)
            case .streamReset(let sid, let code, _):
                if calls.removeValue(forKey: sid) != nil { return .finished(CallID(sid), Self.status(for: code), trailers: []) }
            case .goAway(let last, let code, _):
                // Calls above `last` were never processed: each ends UNAVAILABLE, safe to retry.
                for sid in calls.keys where sid > last { unprocessed.append(sid) }
                for sid in unprocessed { calls[sid] = nil }
                unprocessed.sort(by: >)
                return .goAway(lastStreamID: last, code)
            case .connectionError(let code, let why):
                calls.removeAll()
                return .connectionError(code, why)
            case .pingAck:
                continue
            }
        }
    }

    private func receiveHeaders(_ sid: StreamID, _ fields: [HeaderField], endStream: Bool, into out: inout ByteWriter) -> GRPCClientEvent? {
        guard var call = calls[sid] else { return nil }
        let call_ = CallID(sid)
        if let httpStatus = fields.first(named: GRPCHeader.status), httpStatus != "200" {
            calls[sid] = nil
            if http2.isRemoteOpen(sid) { http2.resetStream(sid, .cancel, into: &out) }
            return .finished(call_, Self.status(forHTTP: httpStatus), trailers: fields)
        }
        if endStream {
            calls[sid] = nil
            guard let raw = fields.first(named: GRPCHeader.grpcStatus), let code = Self.parseCode(raw) else {
                return .finished(call_, GRPCStatus(.internalError, "server closed the stream without a valid grpc-status"), trailers: fields)
            }
            if code == .ok && call.awaitsUnaryResponse {
                // As grpc-go: a unary call that ends without its response message failed.
                return .finished(call_, GRPCStatus(.internalError, "cardinality violation: received no response message from non-server-streaming RPC"),
                                 trailers: fields)
            }
            let message = fields.first(named: GRPCHeader.grpcMessage).map(GRPCPercentEncoding.decode) ?? .empty
            return .finished(call_, GRPCStatus(code, message), trailers: fields)
        }
        guard let encoding = MessageEncoding(fields.first(named: GRPCHeader.grpcEncoding)) else {
            calls[sid] = nil
            http2.resetStream(sid, .cancel, into: &out)
            return .finished(call_, GRPCStatus(.internalError, "grpc: response uses an unsupported grpc-encoding"), trailers: fields)
        }
        call.encoding = encoding
        calls[sid] = call
        return .responseHeaders(call_, fields)
    }

    private func nextMessage(into out: inout ByteWriter) -> GRPCClientEvent? {
        guard var p = pending else { return nil }
        let sid = p.stream
        if calls[sid] != nil {
            do throws(GRPCStatus) {
                // In place (`calls[sid]!`): a copy would duplicate a partly assembled body per frame.
                let assembled = try calls[sid]!.assembler.next(&p.remaining)
                pending = p
                if let (compressed, message) = assembled {
                    calls[sid]!.awaitsUnaryResponse = false
                    return .message(CallID(sid), try calls[sid]!.deliver(compressed: compressed, message, gzip: gzip))
                }
            } catch {
                pending = nil
                http2.consume(p.flowBytes, on: sid, into: &out)
                cancel(CallID(sid), into: &out)
                return .finished(CallID(sid), error, trailers: [])
            }
        }
        pending = nil
        http2.consume(p.flowBytes, on: sid, into: &out)
        guard p.endStream, calls.removeValue(forKey: sid) != nil else { return nil }
        return .finished(CallID(sid), GRPCStatus(.internalError, "server closed the stream without sending trailers"), trailers: [])
    }

    static func parseCode(_ raw: ByteString) -> GRPCStatusCode? {
        guard !raw.isEmpty, raw.count <= 3, raw.bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let n = raw.bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return GRPCStatusCode(rawValue: UInt8(clamping: n)) ?? .unknown
    }

    /// gRPC's HTTP-to-status mapping (doc/http-grpc-status-mapping.md).
    static func status(forHTTP httpStatus: ByteString) -> GRPCStatus {
        let code: GRPCStatusCode
        switch httpStatus {
        case "400": code = .internalError
        case "401": code = .unauthenticated
        case "403": code = .permissionDenied
        case "404": code = .unimplemented
        case "429", "502", "503", "504": code = .unavailable
        default: code = .unknown
        }
        return GRPCStatus(code, ByteString("unexpected HTTP status code received from server: \(httpStatus)"))
    }

    /// RST_STREAM codes as grpc-go maps them.
    static func status(for code: HTTP2ErrorCode) -> GRPCStatus {
        switch code {
        case .cancel: return GRPCStatus(.cancelled, "stream reset: CANCEL")
        case .refusedStream: return GRPCStatus(.unavailable, "stream refused")
        case .enhanceYourCalm: return GRPCStatus(.resourceExhausted, "stream reset: ENHANCE_YOUR_CALM")
        case .inadequateSecurity: return GRPCStatus(.permissionDenied, "stream reset: INADEQUATE_SECURITY")
        default: return GRPCStatus(.internalError, ByteString("stream terminated by RST_STREAM with error code: \(code)"))
        }
    }
}
