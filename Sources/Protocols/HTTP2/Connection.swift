import BinaryCoding

/// A sans-I/O HTTP/2 connection (RFC 9113), h2c with prior knowledge. Received bytes go in
/// through `next`, which returns one event at a time; everything to send is appended to the
/// caller's `ByteWriter`. Frames are parsed in place; a frame that spans two reads is copied
/// into one buffer allocated at start-up.
public final class HTTP2Connection {
    public static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Phase { case awaitingPreface(matched: Int), awaitingSettings, open, closed }

    public let role: HTTP2Role
    public let configuration: HTTP2Configuration
    public var local: HTTP2Settings { configuration.settings }
    /// The peer's settings; RFC initial values until its first SETTINGS frame.
    public internal(set) var remote = HTTP2Settings()

    var phase: Phase
    var decoder: HPACKDecoder
    var encoder = HPACKEncoder()
    var headerScratch = ByteWriter()
    var flushScratch: [StreamID] = []
    var streams: [StreamID: StreamState] = [:]
    var peerStreamCount = 0
    var localStreamCount = 0
    /// Highest stream id the peer opened, refused ones included (the first GOAWAY's
    /// last-stream-id, RFC 9113 §6.8).
    public internal(set) var lastPeerStreamID = StreamID.connection
    /// Peer stream ids skipped when a higher one opened (`lower ... upper`, the most recent
    /// `skippedPeerRangesMax`): HEADERS opening one of them is a connection error (RFC 9113
    /// §5.1.1), HEADERS on a stream that was open is a stream error on a closed stream.
    var skippedPeerRanges: [ClosedRange<UInt32>] = []
    var nextLocalStreamID: UInt32
    public internal(set) var goAwaySent: StreamID?
    public internal(set) var goAwayReceived: StreamID?
    /// The owner's monotonic clock when the bytes being read arrived (the ping policy's only
    /// use of time; set before `next`).
    public var clockNs: UInt64 = 0
    var lastPingAtNs: UInt64?
    var pingStrikes = 0
    /// HEADERS or DATA went out since the last PING (grpc-go's `resetPingStrikes`).
    var pingStrikesForgiven = false

    var connectionSendWindow = 65_535
    var connectionRecvWindow = 65_535
    var connectionRecvUnacked = 0

    /// CONTINUATION in progress: the stream, END_STREAM of its HEADERS, fragments so far.
    var headerBlockStream: StreamID?
    var headerBlockEndStream = false
    var headerBlock: [UInt8] = []

    /// One frame (header + payload at our max frame size) that arrived in pieces.
    let frameBuffer: UnsafeMutableRawBufferPointer
    var frameBuffered = 0
    var frameBufferDelivered = false

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
    /// The peer's preface and first SETTINGS have arrived (RFC 9113 §3.4).
    public var isEstablished: Bool { if case .open = phase { return true } else { return false } }
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

    // MARK: Reading frames

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
    func nextFrame(_ input: inout UnsafeRawBufferPointer) throws(HTTP2ProtocolError) -> (FrameHeader, UnsafeRawBufferPointer)? {
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

    func buffer(_ input: inout UnsafeRawBufferPointer, upTo total: Int) {
        let take = min(total - frameBuffered, input.count)
        guard take > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: frameBuffer[frameBuffered..<(frameBuffered + take)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[..<take]))
        frameBuffered += take
        input = UnsafeRawBufferPointer(rebasing: input[take...])
    }

    func checkLength(_ header: FrameHeader) throws(HTTP2ProtocolError) {
        if header.length > local.maxFrameSize {
            throw .connection(.frameSizeError, "frame of \(header.length) bytes exceeds SETTINGS_MAX_FRAME_SIZE \(local.maxFrameSize)")
        }
    }
}
