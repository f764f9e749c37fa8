import BinaryCoding

/// Sending: stream opening, headers, DATA under the peer's windows, resets, GOAWAY; and the
/// bookkeeping both directions share.
extension HTTP2Connection {
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
        goAwaySent = goAwayLastStreamID
        out.appendGoAwayFrame(lastStreamID: goAwayLastStreamID, code, debug: debug)
    }

    /// §6.8: a later GOAWAY MUST NOT raise the last stream id; streams the peer opened after the
    /// first one were refused, so they never count.
    var goAwayLastStreamID: StreamID { goAwaySent ?? lastPeerStreamID }

    func writeHeaders(_ fields: [HeaderField], on sid: StreamID, endStream: Bool, into out: inout ByteWriter) {
        headerScratch.bytes.removeAll(keepingCapacity: true)
        encoder.encode(fields, into: &headerScratch)
        headerScratch.bytes.withUnsafeBytes { out.appendHeaderBlock(stream: sid, $0, endStream: endStream, maxFrameSize: remote.maxFrameSize) }
        pingStrikesForgiven = true
        if endStream { closeLocal(sid) }
    }

    func flushAll(into out: inout ByteWriter) {
        guard connectionSendWindow > 0 else { return }
        // Collected first: flushing mutates `streams`, which must not be copied per update.
        flushScratch.removeAll(keepingCapacity: true)
        for (sid, stream) in streams where stream.hasPendingSend { flushScratch.append(sid) }
        for sid in flushScratch { flush(sid, into: &out) }
    }

    func flush(_ sid: StreamID, into out: inout ByteWriter) {
        guard var stream = streams[sid], stream.hasPendingSend else { return }
        while stream.outboundRemaining > 0 {
            let n = min(stream.outboundRemaining, connectionSendWindow, stream.sendWindow, remote.maxFrameSize)
            guard n > 0 else { break }
            let last = n == stream.outboundRemaining && stream.endStreamQueued && stream.trailersQueued == nil
            stream.outbound.withUnsafeBytes {
                out.appendDataFrame(stream: sid, UnsafeRawBufferPointer(rebasing: $0[stream.outboundOffset..<(stream.outboundOffset + n)]), endStream: last)
            }
            pingStrikesForgiven = true
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

    func insertStream(_ sid: StreamID, _ stream: StreamState) {
        precondition(streams[sid] == nil)
        streams[sid] = stream
        if stream.peerInitiated { peerStreamCount += 1 } else { localStreamCount += 1 }
    }

    func removeStream(_ sid: StreamID) {
        guard let stream = streams.removeValue(forKey: sid) else { return }
        if stream.peerInitiated { peerStreamCount -= 1 } else { localStreamCount -= 1 }
        precondition(peerStreamCount >= 0 && localStreamCount >= 0)
    }

    func closeLocal(_ sid: StreamID) {
        guard var stream = streams[sid] else { return }
        stream.localOpen = false
        streams[sid] = stream
        if stream.isClosed { removeStream(sid) }
    }

    func fail(_ code: HTTP2ErrorCode, _ why: String, into out: inout ByteWriter) -> HTTP2Event {
        goAwaySent = goAwayLastStreamID
        out.appendGoAwayFrame(lastStreamID: goAwayLastStreamID, code, debug: ByteString(why))
        phase = .closed
        return .connectionError(code, why)
    }
}
