import BinaryCoding
import HTTP2

public struct GRPCServerConfiguration: Sendable {
    public var http2: HTTP2Configuration = .server
    /// `-server.grpc-max-recv-msg-size-bytes` (ingest-and-ops.md §5.2): 100 MiB.
    public var maxReceiveMessageBytes = 100 << 20
    /// Bound on a message after gunzip, so a small compressed body cannot expand without limit.
    public var maxDecompressedMessageBytes = 100 << 20
    /// Charged for messages arriving in pieces, shared by every connection of the server (nil:
    /// each call may hold up to `maxReceiveMessageBytes`, however many calls there are).
    public var receiveBudget: (any GRPCReceiveBudget)?
    /// Routable `:path` values; events name them by index.
    public var methods: [ByteString]

    public init(methods: [ByteString]) { self.methods = methods }
}

public enum GRPCServerEvent {
    /// A routed request: `method` indexes `configuration.methods`; `timeoutNs` from `grpc-timeout`.
    case call(CallID, method: Int, metadata: [HeaderField], timeoutNs: UInt64?)
    /// One request message; a `.view` is valid until the next `next` call.
    case message(CallID, GRPCMessage)
    /// The client sent END_STREAM: no more messages.
    case halfClosed(CallID)
    /// The client reset the stream (e.g. CANCEL when its context ends).
    case cancelled(CallID, HTTP2ErrorCode)
    /// The server ended the call itself because of what the client sent (status already written).
    case failed(CallID, GRPCStatus)
    case goAway(lastStreamID: StreamID, HTTP2ErrorCode)
    /// The connection is over (GOAWAY written); close the socket after flushing.
    case connectionError(HTTP2ErrorCode, String)
}

/// A sans-I/O gRPC server connection over `HTTP2Connection`: routing by `:path`, message
/// framing, gzip, status trailers. Unknown methods and malformed requests are answered here
/// and never reach the application.
public final class GRPCServerConnection {
    public let configuration: GRPCServerConfiguration
    public let http2: HTTP2Connection
    private let routes: [ByteString: Int]
    private let services: Set<ByteString>
    private var calls: [StreamID: ServerCall] = [:]
    private var pending: PendingData?
    private var pendingHalfClose: StreamID?
    /// Allocates its decompressor for the first gzip request (internal: tests check it stays unallocated).
    let gzip = GzipCodec()
    private var scratch = ByteWriter()

    struct ServerCall {
        var inbound: InboundCall
        var headersSent = false
    }

    public init(configuration: GRPCServerConfiguration) {
        self.configuration = configuration
        http2 = HTTP2Connection(role: .server, configuration: configuration.http2)
        var routes: [ByteString: Int] = [:]
        var services = Set<ByteString>()
        for (i, path) in configuration.methods.enumerated() {
            routes[path] = i
            if let (service, _) = Self.split(path) { services.insert(service) }
        }
        self.routes = routes
        self.services = services
    }

    /// A connection dropped with calls mid-message gives their charges back.
    deinit { closed() }

    /// The socket is gone: every call is forgotten and what its partial message holds charged
    /// to `receiveBudget` is given back.
    public func closed() {
        for sid in Array(calls.keys) { removeCall(sid) }
        pending = nil
        pendingHalfClose = nil
    }

    public var activeCallCount: Int { calls.count }
    /// A connection error ended the connection: flush what was written, then close the socket.
    public var isClosed: Bool { http2.isClosed }
    /// After GOAWAY (either way) every stream finished: the socket can be closed.
    public var isDrained: Bool { http2.isDrained }

    public func start(into out: inout ByteWriter) { http2.start(into: &out) }

    /// Consumes received bytes from the front of `input`, one event at a time. Message views
    /// may point into `input`'s memory: keep it untouched until this returns `nil`, which it
    /// does when every byte was used (a partial frame is copied inside) or, with input left,
    /// once `out` holds more than `outputPauseBytes` between frames. Nothing then refers to
    /// the input: the caller may keep the rest and feed it once `out` was sent, so a peer's
    /// small frames that each ask for a long answer cannot fill memory with answers.
    public func next(_ input: inout UnsafeRawBufferPointer, into out: inout ByteWriter,
                     outputPauseBytes: Int = .max) -> GRPCServerEvent? {
        while true {
            if let sid = pendingHalfClose {
                pendingHalfClose = nil
                if calls[sid] != nil { return .halfClosed(CallID(sid)) }
            }
            if pending != nil, let event = nextMessage(into: &out) { return event }
            guard out.count <= outputPauseBytes, let event = http2.next(&input, into: &out) else { return nil }
            switch event {
            case .headers(let sid, let fields, let endStream):
                if calls[sid] != nil {
                    // Request trailers: unusual, but the end of the request all the same.
                    if endStream { return requestEnded(sid, into: &out) }
                    continue
                }
                if let call = openCall(sid, fields, endStream: endStream, into: &out) { return call }
            case .data(let sid, let body, let endStream):
                pending = PendingData(stream: sid, remaining: body, endStream: endStream, flowBytes: body.count)
            case .streamReset(let sid, let code, _):
                if removeCall(sid) != nil { return .cancelled(CallID(sid), code) }
            case .goAway(let last, let code, _):
                return .goAway(lastStreamID: last, code)
            case .connectionError(let code, let why):
                closed()
                return .connectionError(code, why)
            case .settings, .pingAck:
                continue
            }
        }
    }

    /// Cuts the pending DATA payload into messages; returns its credit to flow control once
    /// the application has had every message in it.
    private func nextMessage(into out: inout ByteWriter) -> GRPCServerEvent? {
        guard var p = pending else { return nil }
        let sid = p.stream
        if calls[sid] != nil {
            do throws(GRPCStatus) {
                // In place (`calls[sid]!`): a copy would duplicate a partly assembled body per frame.
                let assembled = try calls[sid]!.inbound.assembler.next(&p.remaining)
                pending = p
                if let (compressed, message) = assembled {
                    return .message(CallID(sid), try calls[sid]!.inbound.deliver(compressed: compressed, message, gzip: gzip))
                }
            } catch {
                pending = nil
                http2.consume(p.flowBytes, on: sid, into: &out)
                finish(CallID(sid), status: error, into: &out)
                return .failed(CallID(sid), error)
            }
        }
        pending = nil
        http2.consume(p.flowBytes, on: sid, into: &out)
        guard p.endStream, calls[sid] != nil else { return nil }
        return requestEnded(sid, into: &out)
    }

    /// The client's END_STREAM on a call: half-closed, or failed when it cut a message short.
    private func requestEnded(_ sid: StreamID, into out: inout ByteWriter) -> GRPCServerEvent {
        guard calls[sid]!.inbound.assembler.isIdle else {
            let status = GRPCStatus(.internalError, "grpc: request stream ended inside a message")
            finish(CallID(sid), status: status, into: &out)
            return .failed(CallID(sid), status)
        }
        return .halfClosed(CallID(sid))
    }

    private func openCall(_ sid: StreamID, _ fields: [HeaderField], endStream: Bool, into out: inout ByteWriter) -> GRPCServerEvent? {
        guard fields.first(named: GRPCHeader.method) == "POST" else {
            http2.resetStream(sid, .protocolError, into: &out)  // as grpc-go: not a gRPC request at all
            return nil
        }
        let contentType = fields.first(named: GRPCHeader.contentType) ?? .empty
        guard Self.isGRPC(contentType: contentType) else {
            let why = ByteString("invalid gRPC request content-type \"\(Self.echoed(contentType))\"")
            respondTrailersOnly(sid, httpStatus: "415", GRPCStatus(.invalidArgument, why), into: &out)
            return nil
        }
        let encodingName = fields.first(named: GRPCHeader.grpcEncoding)
        guard let encoding = MessageEncoding(encodingName) else {
            let why = ByteString("grpc: Decompressor is not installed for grpc-encoding \"\(Self.echoed(encodingName ?? .empty))\"")
            respondTrailersOnly(sid, httpStatus: "200", GRPCStatus(.unimplemented, why),
                                extra: [HeaderField(GRPCHeader.grpcAcceptEncoding, GRPCHeader.acceptedEncodings)], into: &out)
            return nil
        }
        var timeoutNs: UInt64?
        if let raw = fields.first(named: GRPCHeader.grpcTimeout) {
            guard let ns = GRPCTimeout.parse(raw) else {
                // As grpc-go answers a header it cannot read (its `headerError`): HTTP 400.
                respondTrailersOnly(sid, httpStatus: "400", GRPCStatus(.internalError, ByteString("malformed grpc-timeout: \(Self.echoed(raw))")), into: &out)
                return nil
            }
            timeoutNs = ns
        }
        let path = fields.first(named: GRPCHeader.path) ?? .empty
        guard let method = routes[path] else {
            respondTrailersOnly(sid, httpStatus: "200", unimplemented(path), into: &out)
            return nil
        }
        let assembler = MessageAssembler(maxMessageBytes: configuration.maxReceiveMessageBytes, budget: configuration.receiveBudget)
        let inbound = InboundCall(assembler: assembler,
                                  encoding: encoding, decompressedBytesMax: configuration.maxDecompressedMessageBytes)
        calls[sid] = ServerCall(inbound: inbound)
        if endStream { pendingHalfClose = sid }
        return .call(CallID(sid), method: method, metadata: fields, timeoutNs: timeoutNs)
    }

    /// Forgets a call, giving back what its partial message holds charged.
    @discardableResult
    private func removeCall(_ sid: StreamID) -> ServerCall? {
        guard var call = calls.removeValue(forKey: sid) else { return nil }
        call.inbound.assembler.releaseCharge()
        return call
    }

    /// grpc-go's texts for an unroutable path.
    private func unimplemented(_ path: ByteString) -> GRPCStatus {
        guard let (service, method) = Self.split(path) else {
            return GRPCStatus(.unimplemented, ByteString("malformed method name: \"\(Self.echoed(path))\""))
        }
        if services.contains(service) {
            return GRPCStatus(.unimplemented, ByteString("unknown method \(Self.echoed(method)) for service \(Self.echoed(service))"))
        }
        return GRPCStatus(.unimplemented, ByteString("unknown service \(Self.echoed(service))"))
    }

    /// A value the client sent, as quoted back in `grpc-message`: its first `echoedBytesMax`
    /// bytes. A field may fill the header list (64 KiB) yet cost the client a few bytes per
    /// request once HPACK indexed it, and percent-encoding can triple it: quoted whole, one read
    /// of tiny HEADERS frames would ask for megabytes of answers.
    static func echoed(_ value: ByteString) -> ByteString {
        guard value.count > echoedBytesMax else { return value }
        return ByteString(Array(value.bytes.prefix(echoedBytesMax)) + Array("...".utf8))
    }

    /// Enough for any real method name or header value to be recognised.
    static let echoedBytesMax = 256

    /// grpc-go's test: `application/grpc`, alone or followed by `+` or `;` and a subtype.
    static func isGRPC(contentType: ByteString) -> Bool {
        let base = GRPCHeader.applicationGRPC.bytes
        let value = contentType.bytes
        guard value.starts(with: base) else { return false }
        return value.count == base.count || value[base.count] == UInt8(ascii: "+") || value[base.count] == UInt8(ascii: ";")
    }

    /// `/service/method` → (service, method).
    static func split(_ path: ByteString) -> (ByteString, ByteString)? {
        let b = path.bytes
        guard b.first == UInt8(ascii: "/"), let slash = b.lastIndex(of: UInt8(ascii: "/")), slash > 0 else { return nil }
        return (ByteString(Array(b[1..<slash])), ByteString(Array(b[(slash + 1)...])))
    }

    // MARK: Responding

    /// Response headers: `:status 200`, `content-type: application/grpc`, then `metadata`.
    public func sendHeaders(_ call: CallID, metadata: [HeaderField] = [], into out: inout ByteWriter) {
        guard var state = calls[call.stream], !state.headersSent else { return }
        state.headersSent = true
        calls[call.stream] = state
        http2.sendHeaders(metadata.isEmpty ? Self.okHeaders : Self.okHeaders + metadata, on: call.stream, endStream: false, into: &out)
    }

    /// One response message (uncompressed), preceded by the headers if not yet sent.
    public func sendMessage(_ call: CallID, _ body: UnsafeRawBufferPointer, into out: inout ByteWriter) {
        guard let state = calls[call.stream] else { return }
        if !state.headersSent { sendHeaders(call, into: &out) }
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.appendGRPCMessage(body, compressed: false)
        scratch.bytes.withUnsafeBytes { http2.sendData($0, on: call.stream, endStream: false, into: &out) }
    }

    /// Ends the call with `status` in trailers, or trailers-only when nothing was sent yet.
    /// If the client is still sending, its half is then reset with NO_ERROR (RFC 9113 §8.1).
    public func finish(_ call: CallID, status: GRPCStatus, trailers: [HeaderField] = [], into out: inout ByteWriter) {
        guard let state = removeCall(call.stream) else { return }
        if state.headersSent {
            let fields = status == .ok && trailers.isEmpty ? Self.okTrailers : Self.statusFields(status) + trailers
            http2.sendHeaders(fields, on: call.stream, endStream: true, into: &out)
            resetIfClientStillSending(call.stream, into: &out)
        } else {
            respondTrailersOnly(call.stream, httpStatus: "200", status, extra: trailers, into: &out)
        }
    }

    /// A unary success: headers, the one message, `grpc-status: 0`.
    public func respond(_ call: CallID, message: UnsafeRawBufferPointer, into out: inout ByteWriter) {
        sendMessage(call, message, into: &out)
        finish(call, status: .ok, into: &out)
    }

    /// Graceful shutdown: calls already opened finish, new ones are refused. `debug` says why
    /// (grpc-go's reasons, e.g. `max_age`).
    public func goAway(debug: ByteString = .empty, into out: inout ByteWriter) { http2.goAway(debug: debug, into: &out) }
    /// When the bytes about to be read arrived (`HTTP2Connection.clockNs`, for the ping policy).
    public var clockNs: UInt64 {
        get { http2.clockNs }
        set { http2.clockNs = newValue }
    }
    /// The client's preface and SETTINGS have arrived.
    public var isEstablished: Bool { http2.isEstablished }
    /// A keepalive PING; its acknowledgement, like any frame, shows the peer is there.
    public func ping(into out: inout ByteWriter) { http2.ping(opaque: 0, into: &out) }

    private func respondTrailersOnly(_ sid: StreamID, httpStatus: ByteString, _ status: GRPCStatus,
                                     extra: [HeaderField] = [], into out: inout ByteWriter) {
        let fields = [HeaderField(GRPCHeader.status, httpStatus), HeaderField(GRPCHeader.contentType, GRPCHeader.applicationGRPC)]
            + Self.statusFields(status) + extra
        http2.sendHeaders(fields, on: sid, endStream: true, into: &out)
        resetIfClientStillSending(sid, into: &out)
    }

    private func resetIfClientStillSending(_ sid: StreamID, into out: inout ByteWriter) {
        if http2.isRemoteOpen(sid) && http2.pendingSendBytes(on: sid) == 0 {
            http2.resetStream(sid, .noError, into: &out)
        }
    }

    /// The success path's header lists, built once: a Push answer allocates none.
    static let okHeaders = [HeaderField(GRPCHeader.status, "200"), HeaderField(GRPCHeader.contentType, GRPCHeader.applicationGRPC)]
    static let okTrailers = [HeaderField(GRPCHeader.grpcStatus, GRPCStatusCode.ok.headerValue)]

    static func statusFields(_ status: GRPCStatus) -> [HeaderField] {
        var fields = [HeaderField(GRPCHeader.grpcStatus, status.code.headerValue)]
        if !status.message.isEmpty {
            fields.append(HeaderField(GRPCHeader.grpcMessage, GRPCPercentEncoding.encode(status.message)))
        }
        return fields
    }
}
