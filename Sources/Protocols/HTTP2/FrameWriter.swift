import BinaryCoding

/// Frame serialisation (RFC 9113 §4.1, §6): every function appends one or more complete frames.
extension ByteWriter {
    public mutating func appendFrameHeader(length: Int, type: FrameType, flags: UInt8, stream: StreamID) {
        precondition(length <= HTTP2Settings.maxFrameSizeLimit && stream.rawValue <= StreamID.max.rawValue)
        append(UInt8(truncatingIfNeeded: length >> 16))
        append(UInt8(truncatingIfNeeded: length >> 8))
        append(UInt8(truncatingIfNeeded: length))
        append(type.rawValue)
        append(flags)
        appendBE32(stream.rawValue)
    }

    public mutating func appendDataFrame(stream: StreamID, _ body: UnsafeRawBufferPointer, endStream: Bool) {
        appendFrameHeader(length: body.count, type: .data, flags: endStream ? FrameFlags.endStream : 0, stream: stream)
        append(body)
    }

    /// A header block as HEADERS plus as many CONTINUATION frames as `maxFrameSize` requires.
    public mutating func appendHeaderBlock(stream: StreamID, _ block: UnsafeRawBufferPointer, endStream: Bool, maxFrameSize: Int) {
        precondition(maxFrameSize >= HTTP2Settings.minFrameSize)
        var start = 0
        var type = FrameType.headers
        repeat {
            let end = Swift.min(block.count, start + maxFrameSize)
            var flags: UInt8 = end == block.count ? FrameFlags.endHeaders : 0
            if type == .headers && endStream { flags |= FrameFlags.endStream }
            appendFrameHeader(length: end - start, type: type, flags: flags, stream: stream)
            append(UnsafeRawBufferPointer(rebasing: block[start..<end]))
            start = end
            type = .continuation
        } while start < block.count
    }

    public mutating func appendPriorityFrame(stream: StreamID, _ p: PriorityInfo) {
        appendFrameHeader(length: 5, type: .priority, flags: 0, stream: stream)
        appendBE32(p.dependency.rawValue | (p.exclusive ? 0x8000_0000 : 0))
        append(p.weight)
    }

    public mutating func appendRstStreamFrame(stream: StreamID, _ code: HTTP2ErrorCode) {
        appendFrameHeader(length: 4, type: .rstStream, flags: 0, stream: stream)
        appendBE32(code.rawValue)
    }

    public mutating func appendSettingsFrame(_ params: [(SettingID, UInt32)]) {
        appendFrameHeader(length: params.count * 6, type: .settings, flags: 0, stream: .connection)
        for (id, value) in params {
            appendBE16(id.rawValue)
            appendBE32(value)
        }
    }

    public mutating func appendSettingsAck() {
        appendFrameHeader(length: 0, type: .settings, flags: FrameFlags.ack, stream: .connection)
    }

    public mutating func appendPushPromiseFrame(stream: StreamID, promised: StreamID, _ block: UnsafeRawBufferPointer) {
        appendFrameHeader(length: 4 + block.count, type: .pushPromise, flags: FrameFlags.endHeaders, stream: stream)
        appendBE32(promised.rawValue)
        append(block)
    }

    public mutating func appendPingFrame(opaque: UInt64, ack: Bool) {
        appendFrameHeader(length: 8, type: .ping, flags: ack ? FrameFlags.ack : 0, stream: .connection)
        appendBE64(opaque)
    }

    public mutating func appendGoAwayFrame(lastStreamID: StreamID, _ code: HTTP2ErrorCode, debug: ByteString = .empty) {
        appendFrameHeader(length: 8 + debug.count, type: .goAway, flags: 0, stream: .connection)
        appendBE32(lastStreamID.rawValue)
        appendBE32(code.rawValue)
        append(debug)
    }

    public mutating func appendWindowUpdateFrame(stream: StreamID, increment: Int) {
        precondition(increment > 0 && increment <= HTTP2Settings.maxWindowSize)
        appendFrameHeader(length: 4, type: .windowUpdate, flags: 0, stream: stream)
        appendBE32(UInt32(increment))
    }
}
