import BinaryCoding

/// Receiving: frame dispatch, RFC 9113 §5–§6 checks that need connection state, and
/// receive-side flow control.
extension HTTP2Connection {
    func process(_ header: FrameHeader, _ bytes: UnsafeRawBufferPointer, into out: inout ByteWriter) throws(HTTP2ProtocolError) -> HTTP2Event? {
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
            if role == .server, let policy = configuration.pingPolicy { try enforce(policy) }
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

    /// `HTTP2PingPolicy` for the PING just received (answered already, as grpc-go does).
    private func enforce(_ policy: HTTP2PingPolicy) throws(HTTP2ProtocolError) {
        let now = clockNs
        defer { lastPingAtNs = now }
        if pingStrikesForgiven {
            pingStrikesForgiven = false
            pingStrikes = 0
            return
        }
        let interval = streams.isEmpty && !policy.permitWithoutStream ? HTTP2PingPolicy.withoutStreamIntervalNs : policy.minIntervalNs
        if let last = lastPingAtNs, now < last &+ interval { pingStrikes += 1 }
        if pingStrikes > HTTP2PingPolicy.strikesMax { throw .connection(.enhanceYourCalm, "too_many_pings") }
    }

    var headerBlockTooLarge: HTTP2ProtocolError {
        .connection(.enhanceYourCalm, "header block exceeds \(configuration.headerBlockBytesMax) bytes")
    }

    /// A stream id the peer may not use yet (RFC 9113 §5.1.1).
    func isIdle(_ sid: StreamID) -> Bool {
        if sid.isClientInitiated == (role == .server) { return sid > lastPeerStreamID }
        return sid.rawValue >= nextLocalStreamID
    }

    func receiveData(_ sid: StreamID, _ body: UnsafeRawBufferPointer, flowLength: Int, endStream: Bool,
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

    func receiveHeaderBlock(_ sid: StreamID, _ block: UnsafeRawBufferPointer, endStream: Bool,
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
        guard sid > lastPeerStreamID else {
            if skippedPeerRanges.contains(where: { $0.contains(sid.rawValue) }) {
                throw .connection(.protocolError, "stream \(sid) opened after stream \(lastPeerStreamID)")
            }
            throw .stream(sid, .streamClosed, "HEADERS on closed stream \(sid)")
        }
        recordSkippedPeerStreams(below: sid)
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

    /// Remembers the ids between the last stream the peer opened and `sid` (clients that
    /// number their streams one by one skip none), the oldest ranges forgotten past the bound:
    /// a forgotten one is then answered as a closed stream, a stream error.
    private func recordSkippedPeerStreams(below sid: StreamID) {
        let first = lastPeerStreamID.rawValue == 0 ? 1 : lastPeerStreamID.rawValue + 2
        guard sid.rawValue > first else { return }
        if skippedPeerRanges.count == Self.skippedPeerRangesMax { skippedPeerRanges.removeFirst() }
        skippedPeerRanges.append(first ... sid.rawValue - 2)
    }

    static let skippedPeerRangesMax = 16

    func applyRemoteSettings(_ params: [(SettingID, UInt32)]) throws(HTTP2ProtocolError) {
        let oldWindow = remote.initialWindowSize
        let oldTableSize = remote.headerTableSize
        for (id, value) in params {
            // §6.5.2: a server MUST NOT announce push; a client treats 1 as a connection error.
            if role == .client && id == .enablePush && value == 1 {
                throw .connection(.protocolError, "server sent SETTINGS_ENABLE_PUSH 1")
            }
            try remote.apply(id, value)
        }
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

    func receiveWindowUpdate(_ sid: StreamID, _ increment: UInt32) throws(HTTP2ProtocolError) {
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
}
