import BinaryCoding

/// A sans-I/O HTTP/2 connection (RFC 9113), h2c with prior knowledge. Received bytes go in
/// through `next`, which returns one event at a time; everything to send is appended to the
/// caller's `ByteWriter`. Frames are parsed in place; a frame that spans two reads is copied
/// into one buffer allocated at start-up.
public final class HTTP2Connection {
    public static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private enum Phase { case awaitingPreface(matched: Int), awaitingSettings, open, closed }

    public let role: HTTP2Role
    public let configuration: HTTP2Configuration
    public var local: HTTP2Settings { configuration.settings }
    /// The peer's settings; RFC initial values until its first SETTINGS frame.
    public private(set) var remote = HTTP2Settings()

    private var phase: Phase
    private var decoder: HPACKDecoder
    private var encoder = HPACKEncoder()
    private var headerScratch = ByteWriter()
    private var flushScratch: [StreamID] = []
    var streams: [StreamID: StreamState] = [:]
    private var peerStreamCount = 0
    private var localStreamCount = 0
    /// Highest stream id the peer opened (GOAWAY's last-stream-id, RFC 9113 §6.8).
    public private(set) var lastPeerStreamID = StreamID.connection
    private var nextLocalStreamID: UInt32
    public private(set) var goAwaySent: StreamID?
    public private(set) var goAwayReceived: StreamID?

    private var connectionSendWindow = 65_535
    private var connectionRecvWindow = 65_535
    private var connectionRecvUnacked = 0

    /// CONTINUATION in progress: the stream, END_STREAM of its HEADERS, fragments so far.
    private var headerBlockStream: StreamID?
    private var headerBlockEndStream = false
    private var headerBlock: [UInt8] = []

    /// One frame (header + payload at our max frame size) that arrived in pieces.
    private let frameBuffer: UnsafeMutableRawBufferPointer
    private var frameBuffered = 0
    private var frameBufferDelivered = false

    public init(role: HTTP2Role, configuration: HTTP2Configuration) {
        self.role = role
        self.configuration = configuration
        phase = role == .server ? .awaitingPreface(matched: 0) : .awaitingSettings
        decoder = HPACKDecoder(maxTableSize: configuration.settings.headerTableSize,
                               maxHeaderListSize: configuration.settings.maxHeaderListSize ?? Int(Int32.max))
        nextLocalStreamID = role == .client ? 1 : 2
        frameBuffer = .allocate(byteCount: FrameHeader.size + configuration.settings.maxFrameSize, alignment: 8)
    }

    deinit { frameBuffer.deallocate() }

    public var isClosed: Bool { if case .closed = phase { return true } else { return false } }
    public var activeStreamCount: Int { streams.count }
    /// Graceful shutdown finished: GOAWAY sent or received and every stream closed.
    public var isDrained: Bool { (goAwaySent != nil || goAwayReceived != nil) && streams.isEmpty }

    /// Our connection preface (RFC 9113 §3.4): the client magic, SETTINGS, and the connection
    /// window raise.
    public func start(into out: inout ByteWriter) {
        if role == .client { out.append(contentsOf: Self.preface) }
        out.appendSettingsFrame(local.parameters)
        let raise = configuration.connectionWindowBytes - 65_535
        if raise > 0 {
            out.appendWindowUpdateFrame(stream: .connection, increment: raise)
            connectionRecvWindow += raise
        }
    }

    // MARK: Receiving

    /// Consumes frames from the front of `input` until one yields an event or the input runs
    /// out (a partial frame is buffered). Views in the event are valid until the next call.
    public func next(_ input: inout UnsafeRawBufferPointer, into out: inout ByteWriter) -> HTTP2Event? {
        while true {
            switch phase {
            case .closed:
                return nil
            case .awaitingPreface(let matched):
                let take = min(Self.preface.count - matched, input.count)
                for i in 0..<take where input[i] != Self.preface[matched + i] {
                    return fail(.protocolError, "invalid connection preface", into: &out)
                }
                input = UnsafeRawBufferPointer(rebasing: input[take...])
                if matched + take < Self.preface.count {
                    phase = .awaitingPreface(matched: matched + take)
                    return nil
                }
                phase = .awaitingSettings
            case .awaitingSettings, .open:
                do throws(HTTP2ProtocolError) {
                    guard let (header, payload) = try nextFrame(&input) else { return nil }
                    if let event = try process(header, payload, into: &out) { return event }
                } catch {
                    switch error {
                    case .connection(let code, let why):
                        return fail(code, why, into: &out)
                    case .stream(let sid, let code, _):
                        resetStream(sid, code, into: &out)
                        return .streamReset(sid, code, byPeer: false)
                    }
                }
            }
        }
    }

    /// The next complete frame: in place when the input holds all of it, else through the
    /// frame buffer. A length above our SETTINGS_MAX_FRAME_SIZE is refused before any payload
    /// is read (RFC 9113 §4.2).
    private func nextFrame(_ input: inout UnsafeRawBufferPointer) throws(HTTP2ProtocolError) -> (FrameHeader, UnsafeRawBufferPointer)? {
        if frameBufferDelivered {  // the previous frame (and any view into it) is finished with
            frameBuffered = 0
            frameBufferDelivered = false
        }
        if frameBuffered == 0 && input.count >= FrameHeader.size {
            let header = FrameHeader.parse(input)
            try checkLength(header)
            let total = FrameHeader.size + header.length
            if input.count >= total {
                let payload = UnsafeRawBufferPointer(rebasing: input[FrameHeader.size..<total])
                input = UnsafeRawBufferPointer(rebasing: input[total...])
                return (header, payload)
            }
        }
        if frameBuffered < FrameHeader.size {
            buffer(&input, upTo: FrameHeader.size)
            if frameBuffered < FrameHeader.size { return nil }
        }
        let header = FrameHeader.parse(UnsafeRawBufferPointer(frameBuffer))
        try checkLength(header)
        let total = FrameHeader.size + header.length
        buffer(&input, upTo: total)
        if frameBuffered < total { return nil }
        frameBufferDelivered = true
        return (header, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(frameBuffer)[FrameHeader.size..<total]))
    }

    private func buffer(_ input: inout UnsafeRawBufferPointer, upTo total: Int) {
        let take = min(total - frameBuffered, input.count)
        guard take > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: frameBuffer[frameBuffered..<(frameBuffered + take)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[..<take]))
        frameBuffered += take
        input = UnsafeRawBufferPointer(rebasing: input[take...])
    }

    private func checkLength(_ header: FrameHeader) throws(HTTP2ProtocolError) {
        if header.length > local.maxFrameSize {
            throw .connection(.frameSizeError, "frame of \(header.length) bytes exceeds SETTINGS_MAX_FRAME_SIZE \(local.maxFrameSize)")
        }
    }

    private func process(_ header: FrameHeader, _ bytes: UnsafeRawBufferPointer, into out: inout ByteWriter) throws(HTTP2ProtocolError) -> HTTP2Event? {
        // §6.10: a header block is contiguous; nothing may interleave with its CONTINUATIONs.
        if let sid = headerBlockStream, header.type != .continuation || header.streamID != sid {
            throw .connection(.protocolError, "expected CONTINUATION on stream \(sid)")
        }
        let frame = try Frame.parse(header, bytes)
        if case .awaitingSettings = phase {
            guard case .settings(ack: false, _) = frame.payload else {
                throw .connection(.protocolError, "first frame is not SETTINGS")
            }
            phase = .open
        }
        let sid = header.streamID
        switch frame.payload {
        case .data(let body, let endStream):
            return try receiveData(sid, body, flowLength: header.length, endStream: endStream, into: &out)
        case .headers(let block, let endStream, let endHeaders, _):
            if endHeaders { return try receiveHeaderBlock(sid, block, endStream: endStream, into: &out) }
            guard block.count <= configuration.headerBlockBytesMax else { throw headerBlockTooLarge }
            headerBlockStream = sid
            headerBlockEndStream = endStream
            headerBlock.removeAll(keepingCapacity: true)
            headerBlock.append(contentsOf: block)
            return nil
        case .continuation(let fragment, let endHeaders):
            guard headerBlockStream != nil else { throw .connection(.protocolError, "CONTINUATION without HEADERS") }
            guard headerBlock.count + fragment.count <= configuration.headerBlockBytesMax else { throw headerBlockTooLarge }
            headerBlock.append(contentsOf: fragment)
            guard endHeaders else { return nil }
            headerBlockStream = nil
            let block = headerBlock
            let result = block.withUnsafeBytes { b in
                Result { () throws(HTTP2ProtocolError) in try receiveHeaderBlock(sid, b, endStream: headerBlockEndStream, into: &out) }
            }
            return try result.get()
        case .priority:
            return nil
        case .rstStream(let code):
            if isIdle(sid) { throw .connection(.protocolError, "RST_STREAM on idle stream \(sid)") }
            guard streams[sid] != nil else { return nil }
            removeStream(sid)
            return .streamReset(sid, code, byPeer: true)
        case .settings(let ack, let params):
            if ack { return nil }
            try applyRemoteSettings(params)
            out.appendSettingsAck()
            flushAll(into: &out)
            return .settings(remote)
        case .pushPromise:
            // We announce SETTINGS_ENABLE_PUSH = 0, and servers never receive it (§8.4).
            throw .connection(.protocolError, "PUSH_PROMISE received")
        case .ping(let ack, let opaque):
            if ack { return .pingAck(opaque: opaque) }
            out.appendPingFrame(opaque: opaque, ack: true)
            return nil
        case .goAway(let last, let code, let debug):
            goAwayReceived = min(goAwayReceived ?? .max, last)
            // §6.8: streams we opened above `last` were never processed; the peer will not
            // answer them, so they are closed here (the application retries them elsewhere).
            for sid in Array(streams.keys) where !streams[sid]!.peerInitiated && sid > last { removeStream(sid) }
            return .goAway(lastStreamID: last, code, debug: Array(debug))
        case .windowUpdate(let increment):
            try receiveWindowUpdate(sid, increment)
            flushAll(into: &out)
            return nil
        case .unknown:
            return nil
        }
    }

    private var headerBlockTooLarge: HTTP2ProtocolError {
        .connection(.enhanceYourCalm, "header block exceeds \(configuration.headerBlockBytesMax) bytes")
    }

    /// A stream id the peer may not use yet (RFC 9113 §5.1.1).
    private func isIdle(_ sid: StreamID) -> Bool {
        if sid.isClientInitiated == (role == .server) { return sid > lastPeerStreamID }
        return sid.rawValue >= nextLocalStreamID
    }

    private func receiveData(_ sid: StreamID, _ body: UnsafeRawBufferPointer, flowLength: Int, endStream: Bool,
                             into out: inout ByteWriter) throws(HTTP2ProtocolError) -> HTTP2Event? {
        guard flowLength <= connectionRecvWindow else {
            throw .connection(.flowControlError, "DATA of \(flowLength) bytes exceeds connection window \(connectionRecvWindow)")
        }
        connectionRecvWindow -= flowLength
        guard var stream = streams[sid] else {
            if isIdle(sid) { throw .connection(.protocolError, "DATA on idle stream \(sid)") }
            // Closed, most likely reset by us with DATA still in flight: §5.1 says to ignore
            // it (as grpc-go does), after crediting the connection window it used.
            consume(flowLength, on: sid, into: &out)
            return nil
        }
        guard stream.remoteOpen else {
            consume(flowLength, on: sid, into: &out)
            throw .stream(sid, .streamClosed, "DATA on half-closed stream \(sid)")
        }
        guard flowLength <= stream.recvWindow else {
            consume(flowLength, on: sid, into: &out)
            throw .stream(sid, .flowControlError, "DATA of \(flowLength) bytes exceeds stream window \(stream.recvWindow)")
        }
        stream.recvWindow -= flowLength
        if endStream { stream.remoteOpen = false }
        streams[sid] = stream
        if stream.isClosed { removeStream(sid) }
        // Padding is never handed to the application: credit it now.
        if flowLength > body.count { consume(flowLength - body.count, on: sid, into: &out) }
        return .data(sid, body, endStream: endStream)
    }

    private func receiveHeaderBlock(_ sid: StreamID, _ block: UnsafeRawBufferPointer, endStream: Bool,
                                    into out: inout ByteWriter) throws(HTTP2ProtocolError) -> HTTP2Event? {
        // Decode first, whatever happens to the stream: the HPACK state is per connection.
        let fields = try decoder.decode(block)
        if var stream = streams[sid] {
            guard stream.remoteOpen else { throw .stream(sid, .streamClosed, "HEADERS on half-closed stream \(sid)") }
            if stream.receivedHeaders && !endStream {
                throw .stream(sid, .protocolError, "trailers without END_STREAM on stream \(sid)")
            }
            guard let fields else { throw .stream(sid, .protocolError, "header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE") }
            let section: HeaderValidation.Section = stream.receivedHeaders || role == .server ? .trailers : .response
            if let why = HeaderValidation.check(fields, as: section) { throw .stream(sid, .protocolError, why) }
            stream.receivedHeaders = true
            if endStream { stream.remoteOpen = false }
            streams[sid] = stream
            if stream.isClosed { removeStream(sid) }
            return .headers(sid, fields, endStream: endStream)
        }
        if role == .client {
            if !sid.isClientInitiated || isIdle(sid) { throw .connection(.protocolError, "HEADERS on stream \(sid) we did not open") }
            return nil  // a stream we reset or finished: ignore (§5.1 closed)
        }
        guard sid.isClientInitiated else { throw .connection(.protocolError, "client opened even stream \(sid)") }
        guard sid > lastPeerStreamID else { throw .stream(sid, .streamClosed, "HEADERS on closed stream \(sid)") }
        lastPeerStreamID = sid
        if let last = goAwaySent, sid > last { throw .stream(sid, .refusedStream, "stream \(sid) after GOAWAY") }
        if let limit = local.maxConcurrentStreams, peerStreamCount >= limit {
            throw .stream(sid, .refusedStream, "more than \(limit) concurrent streams")
        }
        guard let fields else { throw .stream(sid, .protocolError, "header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE") }
        if let why = HeaderValidation.check(fields, as: .request) { throw .stream(sid, .protocolError, why) }
        var stream = StreamState(peerInitiated: true, sendWindow: remote.initialWindowSize, recvWindow: local.initialWindowSize)
        stream.receivedHeaders = true
        stream.remoteOpen = !endStream
        insertStream(sid, stream)
        return .headers(sid, fields, endStream: endStream)
    }

    private func applyRemoteSettings(_ params: [(SettingID, UInt32)]) throws(HTTP2ProtocolError) {
        let oldWindow = remote.initialWindowSize
        let oldTableSize = remote.headerTableSize
        for (id, value) in params { try remote.apply(id, value) }
        if remote.headerTableSize != oldTableSize { encoder.setPeerMaxTableSize(remote.headerTableSize) }
        // §6.9.2: a new initial window shifts every stream's send window by the difference.
        let delta = remote.initialWindowSize - oldWindow
        guard delta != 0 else { return }
        for sid in Array(streams.keys) {
            streams[sid]!.sendWindow += delta
            if streams[sid]!.sendWindow > HTTP2Settings.maxWindowSize {
                throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflows stream \(sid)")
            }
        }
    }

    private func receiveWindowUpdate(_ sid: StreamID, _ increment: UInt32) throws(HTTP2ProtocolError) {
        let inc = Int(increment)
        if sid == .connection {
            guard inc > 0 else { throw .connection(.protocolError, "WINDOW_UPDATE of 0 on the connection") }
            guard connectionSendWindow + inc <= HTTP2Settings.maxWindowSize else {
                throw .connection(.flowControlError, "connection send window overflows")
            }
            connectionSendWindow += inc
            return
        }
        if isIdle(sid) { throw .connection(.protocolError, "WINDOW_UPDATE on idle stream \(sid)") }
        guard var stream = streams[sid] else { return }
        guard inc > 0 else { throw .stream(sid, .protocolError, "WINDOW_UPDATE of 0 on stream \(sid)") }
        guard stream.sendWindow + inc <= HTTP2Settings.maxWindowSize else {
            throw .stream(sid, .flowControlError, "stream \(sid) send window overflows")
        }
        stream.sendWindow += inc
        streams[sid] = stream
    }

    // MARK: Receive flow control

    /// The application is done with `count` bytes of DATA received on `sid`: return them to
    /// the peer once half a window has been consumed, so WINDOW_UPDATEs stay few.
    public func consume(_ count: Int, on sid: StreamID, into out: inout ByteWriter) {
        guard count > 0, !isClosed else { return }
        connectionRecvUnacked += count
        if connectionRecvUnacked >= configuration.connectionWindowBytes / 2 {
            out.appendWindowUpdateFrame(stream: .connection, increment: connectionRecvUnacked)
            connectionRecvWindow += connectionRecvUnacked
            connectionRecvUnacked = 0
        }
        guard var stream = streams[sid], stream.remoteOpen else { return }
        stream.recvUnacked += count
        if stream.recvUnacked >= local.initialWindowSize / 2 {
            out.appendWindowUpdateFrame(stream: sid, increment: stream.recvUnacked)
            stream.recvWindow += stream.recvUnacked
            stream.recvUnacked = 0
        }
        streams[sid] = stream
    }

    // MARK: Sending

    /// Opens a stream with request headers (client role). `nil` when the peer's concurrency
    /// limit or its GOAWAY forbids a new stream now.
    public func openStream(_ fields: [HeaderField], endStream: Bool, into out: inout ByteWriter) -> StreamID? {
        precondition(role == .client, "only clients open streams")
        guard !isClosed, goAwayReceived == nil, nextLocalStreamID <= StreamID.max.rawValue else { return nil }
        if let limit = remote.maxConcurrentStreams, localStreamCount >= limit { return nil }
        let sid = StreamID(nextLocalStreamID)
        nextLocalStreamID += 2
        insertStream(sid, StreamState(peerInitiated: false, sendWindow: remote.initialWindowSize, recvWindow: local.initialWindowSize))
        writeHeaders(fields, on: sid, endStream: endStream, into: &out)
        return sid
    }

    /// Sends response headers, or trailers when `endStream`. Trailers wait behind queued data.
    public func sendHeaders(_ fields: [HeaderField], on sid: StreamID, endStream: Bool, into out: inout ByteWriter) {
        guard !isClosed, var stream = streams[sid], stream.localOpen else { return }
        if endStream && stream.outboundRemaining > 0 {
            stream.trailersQueued = fields
            streams[sid] = stream
            return
        }
        writeHeaders(fields, on: sid, endStream: endStream, into: &out)
    }

    /// Sends `bytes` as DATA as far as the windows allow; the rest is copied and sent when
    /// WINDOW_UPDATEs arrive.
    public func sendData(_ bytes: UnsafeRawBufferPointer, on sid: StreamID, endStream: Bool, into out: inout ByteWriter) {
        guard !isClosed, streams[sid]?.localOpen == true, streams[sid]?.endStreamQueued == false else { return }
        // Mutated in place (`streams[sid]!`) so the queue is never copied.
        if streams[sid]!.outboundRemaining == 0 {
            streams[sid]!.outbound.removeAll(keepingCapacity: true)
            streams[sid]!.outboundOffset = 0
        }
        streams[sid]!.outbound.append(contentsOf: bytes)
        streams[sid]!.endStreamQueued = endStream
        flush(sid, into: &out)
    }

    /// The peer may still send on `sid` (the stream is open or half-closed local).
    public func isRemoteOpen(_ sid: StreamID) -> Bool { streams[sid]?.remoteOpen ?? false }

    /// Bytes queued for sending on `sid`, waiting for window.
    public func pendingSendBytes(on sid: StreamID) -> Int { streams[sid]?.outboundRemaining ?? 0 }

    public func resetStream(_ sid: StreamID, _ code: HTTP2ErrorCode, into out: inout ByteWriter) {
        guard !isClosed else { return }
        out.appendRstStreamFrame(stream: sid, code)
        if streams[sid] != nil { removeStream(sid) }
    }

    public func ping(opaque: UInt64, into out: inout ByteWriter) {
        out.appendPingFrame(opaque: opaque, ack: false)
    }

    /// Graceful shutdown (RFC 9113 §6.8): streams up to the last one opened finish; later
    /// ones are refused.
    public func goAway(_ code: HTTP2ErrorCode = .noError, debug: ByteString = .empty, into out: inout ByteWriter) {
        guard !isClosed else { return }
        goAwaySent = lastPeerStreamID
        out.appendGoAwayFrame(lastStreamID: lastPeerStreamID, code, debug: debug)
    }

    private func writeHeaders(_ fields: [HeaderField], on sid: StreamID, endStream: Bool, into out: inout ByteWriter) {
        headerScratch.bytes.removeAll(keepingCapacity: true)
        encoder.encode(fields, into: &headerScratch)
        headerScratch.bytes.withUnsafeBytes { out.appendHeaderBlock(stream: sid, $0, endStream: endStream, maxFrameSize: remote.maxFrameSize) }
        if endStream { closeLocal(sid) }
    }

    private func flushAll(into out: inout ByteWriter) {
        guard connectionSendWindow > 0 else { return }
        // Collected first: flushing mutates `streams`, which must not be copied per update.
        flushScratch.removeAll(keepingCapacity: true)
        for (sid, stream) in streams where stream.hasPendingSend { flushScratch.append(sid) }
        for sid in flushScratch { flush(sid, into: &out) }
    }

    private func flush(_ sid: StreamID, into out: inout ByteWriter) {
        guard var stream = streams[sid], stream.hasPendingSend else { return }
        while stream.outboundRemaining > 0 {
            let n = min(stream.outboundRemaining, connectionSendWindow, stream.sendWindow, remote.maxFrameSize)
            guard n > 0 else { break }
            let last = n == stream.outboundRemaining && stream.endStreamQueued && stream.trailersQueued == nil
            stream.outbound.withUnsafeBytes {
                out.appendDataFrame(stream: sid, UnsafeRawBufferPointer(rebasing: $0[stream.outboundOffset..<(stream.outboundOffset + n)]), endStream: last)
            }
            stream.outboundOffset += n
            stream.sendWindow -= n
            connectionSendWindow -= n
            if last { stream.endStreamQueued = false; stream.localOpen = false }
        }
        if stream.outboundRemaining == 0 && stream.localOpen {
            if let trailers = stream.trailersQueued {
                stream.trailersQueued = nil
                streams[sid] = stream
                writeHeaders(trailers, on: sid, endStream: true, into: &out)
                return
            }
            if stream.endStreamQueued {
                out.appendDataFrame(stream: sid, UnsafeRawBufferPointer(start: nil, count: 0), endStream: true)
                stream.endStreamQueued = false
                stream.localOpen = false
            }
        }
        streams[sid] = stream
        if stream.isClosed { removeStream(sid) }
    }

    // MARK: Stream bookkeeping

    private func insertStream(_ sid: StreamID, _ stream: StreamState) {
        precondition(streams[sid] == nil)
        streams[sid] = stream
        if stream.peerInitiated { peerStreamCount += 1 } else { localStreamCount += 1 }
    }

    private func removeStream(_ sid: StreamID) {
        guard let stream = streams.removeValue(forKey: sid) else { return }
        if stream.peerInitiated { peerStreamCount -= 1 } else { localStreamCount -= 1 }
        precondition(peerStreamCount >= 0 && localStreamCount >= 0)
    }

    private func closeLocal(_ sid: StreamID) {
        guard var stream = streams[sid] else { return }
        stream.localOpen = false
        streams[sid] = stream
        if stream.isClosed { removeStream(sid) }
    }

    private func fail(_ code: HTTP2ErrorCode, _ why: String, into out: inout ByteWriter) -> HTTP2Event {
        out.appendGoAwayFrame(lastStreamID: lastPeerStreamID, code, debug: ByteString(why))
        goAwaySent = lastPeerStreamID
        phase = .closed
        return .connectionError(code, why)
    }
}
