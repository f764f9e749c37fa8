import BinaryCoding
import Testing
@testable import HTTP2

/// RFC 9113 connection behaviour of the server role, fed hand-built client bytes.
@Suite struct ConnectionTests {
    /// A client's view of the wire: preface, SETTINGS and HPACK state for its header blocks.
    struct Client {
        var encoder = HPACKEncoder()
        func preface() -> [UInt8] { HTTP2Connection.preface + rawFrame(4, stream: 0, []) }
        mutating func headers(_ stream: UInt32, path: String = "/svc/M", endStream: Bool = false, endHeaders: Bool = true) -> [UInt8] {
            var block = ByteWriter()
            encoder.encode(fields([(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "a")]), into: &block)
            let flags = (endStream ? FrameFlags.endStream : 0) | (endHeaders ? FrameFlags.endHeaders : 0)
            return rawFrame(1, flags: flags, stream: stream, block.bytes)
        }
    }

    static func server(_ tweak: (inout HTTP2Configuration) -> Void = { _ in }) -> (HTTP2Connection, ByteWriter) {
        var config = HTTP2Configuration.server
        tweak(&config)
        let conn = HTTP2Connection(role: .server, configuration: config)
        var out = ByteWriter()
        conn.start(into: &out)
        return (conn, out)
    }

    /// The GOAWAY's error code in what the server wrote, if any.
    func goAwayCode(_ out: ByteWriter) -> HTTP2ErrorCode? {
        guard let (_, payload) = splitFrames(out.bytes).last(where: { $0.0.type == .goAway }) else { return nil }
        return HTTP2ErrorCode(rawValue: UInt32(payload[4]) << 24 | UInt32(payload[5]) << 16 | UInt32(payload[6]) << 8 | UInt32(payload[7]))
    }

    func rstCodes(_ out: ByteWriter) -> [UInt32: HTTP2ErrorCode] {
        var codes: [UInt32: HTTP2ErrorCode] = [:]
        for (h, p) in splitFrames(out.bytes) where h.type == .rstStream {
            codes[h.streamID.rawValue] = HTTP2ErrorCode(rawValue: UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3]))
        }
        return codes
    }

    @Test func prefaceAndSettingsExchange() {
        var (conn, out) = Self.server()
        let events = feed(conn, Client().preface(), chunk: 5, out: &out)
        #expect(events.count == 1)
        guard case .settings = events.first else { Issue.record("\(events)"); return }
        let types = splitFrames(out.bytes).map { ($0.0.type, $0.0.flags) }
        #expect(types.map(\.0) == [.settings, .windowUpdate, .settings])
        #expect(types[2].1 == FrameFlags.ack)
        #expect(!conn.isClosed)
    }

    @Test func badPrefaceIsProtocolError() {
        var (conn, out) = Self.server()
        let events = feed(conn, Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8), out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError)
        #expect(goAwayCode(out) == .protocolError)
        #expect(conn.isClosed)
    }

    @Test func firstFrameMustBeSettings() {
        var (conn, out) = Self.server()
        let events = feed(conn, HTTP2Connection.preface + rawFrame(6, stream: 0, [0, 0, 0, 0, 0, 0, 0, 0]), out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError)
    }

    @Test func oversizedFrameIsFrameSizeErrorBeforeItsPayloadArrives() {
        var (conn, out) = Self.server()
        var client = Client()
        var header = ByteWriter()
        header.appendFrameHeader(length: 16_385, type: .data, flags: 0, stream: StreamID(1))
        let events = feed(conn, client.preface() + client.headers(1) + header.bytes, out: &out)
        #expect(events.last?.connectionErrorCode == .frameSizeError)
        #expect(goAwayCode(out) == .frameSizeError)
    }

    @Test func streamFlowControlViolationResetsTheStream() {
        var (conn, out) = Self.server { $0.settings.initialWindowSize = 100 }
        var client = Client()
        let bytes = client.preface() + client.headers(1) + rawFrame(0, stream: 1, [UInt8](repeating: 7, count: 101))
        let events = feed(conn, bytes, out: &out)
        #expect(events.last?.resetCode == .flowControlError)
        #expect(rstCodes(out)[1] == .flowControlError)
        #expect(!conn.isClosed)
    }

    @Test func connectionFlowControlViolationIsConnectionError() {
        var (conn, out) = Self.server { $0.connectionWindowBytes = 65_535 }
        var client = Client()
        var bytes = client.preface() + client.headers(1)
        for _ in 0..<5 { bytes += rawFrame(0, stream: 1, [UInt8](repeating: 7, count: 16_000)) }
        let events = feed(conn, bytes, out: &out)
        #expect(events.last?.connectionErrorCode == .flowControlError)
        #expect(goAwayCode(out) == .flowControlError)
    }

    @Test func hpackGarbageIsCompressionError() {
        var (conn, out) = Self.server()
        let events = feed(conn, Client().preface() + rawFrame(1, flags: 5, stream: 1, [0x80]), out: &out)
        #expect(events.last?.connectionErrorCode == .compressionError)
        #expect(goAwayCode(out) == .compressionError)
    }

    @Test func streamsBeyondMaxConcurrentAreRefused() {
        var (conn, out) = Self.server { $0.settings.maxConcurrentStreams = 2 }
        var client = Client()
        var bytes = client.preface() + client.headers(1) + client.headers(3) + client.headers(5)
        // Stream 1 ends (request END_STREAM is not enough: the server has not answered), so
        // the limit still applies to 7; the header blocks keep the HPACK state in step.
        bytes += client.headers(7, path: "/svc/Other")
        let events = feed(conn, bytes, out: &out)
        #expect(rstCodes(out) == [5: .refusedStream, 7: .refusedStream])
        #expect(events.filter { if case .headers = $0 { true } else { false } }.count == 2)
        #expect(conn.activeStreamCount == 2)
        // After one stream closes, a new one is accepted and its headers decode correctly.
        var reply = ByteWriter()
        conn.sendHeaders(fields([(":status", "200")]), on: StreamID(1), endStream: true, into: &reply)
        conn.resetStream(StreamID(1), .noError, into: &reply)
        let more = feed(conn, client.headers(9, path: "/svc/Again", endStream: true), out: &out)
        guard case .headers(let sid, let f, _) = more.first else { Issue.record("\(more)"); return }
        #expect(sid == StreamID(9) && f.first(named: ":path") == "/svc/Again")
    }

    @Test func continuationWithoutHeadersIsProtocolError() {
        var (conn, out) = Self.server()
        let events = feed(conn, Client().preface() + rawFrame(9, flags: 4, stream: 1, [0x82]), out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError)
    }

    @Test func framesInsideAHeaderBlockAreProtocolError() {
        var (conn, out) = Self.server()
        var client = Client()
        let events = feed(conn, client.preface() + client.headers(1, endHeaders: false) + rawFrame(6, stream: 0, [UInt8](repeating: 0, count: 8)), out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError)
    }

    @Test func headersAndContinuationsAssemble() {
        var (conn, out) = Self.server()
        var client = Client()
        let whole = client.headers(1, endStream: true)
        let block = Array(whole[FrameHeader.size...])
        let split = rawFrame(1, flags: FrameFlags.endStream, stream: 1, Array(block[..<3]))
            + rawFrame(9, stream: 1, Array(block[3..<5])) + rawFrame(9, flags: 4, stream: 1, Array(block[5...]))
        let events = feed(conn, client.preface() + split, chunk: 3, out: &out)
        guard case .headers(let sid, let f, let end) = events.last else { Issue.record("\(events)"); return }
        #expect(sid == StreamID(1) && end && f.first(named: ":path") == "/svc/M")
    }

    @Test func pingIsAcknowledgedWithTheSamePayload() {
        var (conn, out) = Self.server()
        feed(conn, Client().preface() + rawFrame(6, stream: 0, [1, 2, 3, 4, 5, 6, 7, 8]), out: &out)
        let ack = splitFrames(out.bytes).last!
        #expect(ack.0.type == .ping && ack.0.flags == FrameFlags.ack && ack.1 == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test(arguments: [
        (rawFrame(8, stream: 0, [0, 0, 0, 0]), HTTP2ErrorCode.protocolError),        // WINDOW_UPDATE 0 on the connection
        (rawFrame(8, stream: 0, [0x7f, 0xff, 0xff, 0xff]), .flowControlError),       // send window overflow
        (rawFrame(0, stream: 3, [1]), .protocolError),                               // DATA on an idle stream
        (rawFrame(3, stream: 3, [0, 0, 0, 8]), .protocolError),                      // RST_STREAM on an idle stream
        (rawFrame(4, stream: 0, [0, 2, 0, 0, 0, 2]), .protocolError),                // ENABLE_PUSH = 2
        (rawFrame(4, stream: 0, [0, 4, 0x80, 0, 0, 0]), .flowControlError),          // INITIAL_WINDOW_SIZE 2^31
        (rawFrame(4, stream: 0, [0, 5, 0, 0, 0x10, 0]), .protocolError),             // MAX_FRAME_SIZE 4096
        (rawFrame(5, flags: 4, stream: 1, [0, 0, 0, 2, 0x82]), .protocolError),      // PUSH_PROMISE to a server
        (rawFrame(1, flags: 5, stream: 2, [0x82]), .protocolError),                  // client opens an even stream
    ])
    func connectionErrors(_ frame: [UInt8], _ code: HTTP2ErrorCode) {
        var (conn, out) = Self.server()
        let events = feed(conn, Client().preface() + frame, out: &out)
        #expect(events.last?.connectionErrorCode == code)
        #expect(goAwayCode(out) == code)
    }

    @Test func windowUpdateOfZeroOnAStreamResetsIt() {
        var (conn, out) = Self.server()
        var client = Client()
        let events = feed(conn, client.preface() + client.headers(1) + rawFrame(8, stream: 1, [0, 0, 0, 0]), out: &out)
        #expect(events.last?.resetCode == .protocolError)
        #expect(rstCodes(out)[1] == .protocolError)
    }

    @Test func dataAfterEndStreamIsStreamClosed() {
        var (conn, out) = Self.server()
        var client = Client()
        let events = feed(conn, client.preface() + client.headers(1, endStream: true) + rawFrame(0, stream: 1, [1]), out: &out)
        #expect(events.last?.resetCode == .streamClosed)
    }

    /// RFC 9113 §5.1.1: a new stream's id must exceed every id the peer used; a skipped lower
    /// one opened later is a connection error. A stream that was open and is now closed gets
    /// a stream error instead.
    @Test func openingASkippedLowerStreamIsAConnectionError() {
        var (conn, out) = Self.server()
        var client = Client()
        var events = feed(conn, client.preface() + client.headers(5) + client.headers(3), out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError)
        #expect(goAwayCode(out) == .protocolError && conn.isClosed)

        (conn, out) = Self.server()
        client = Client()
        events = feed(conn, client.preface() + client.headers(1) + rawFrame(3, stream: 1, [0, 0, 0, 8]) + client.headers(3)
                      + client.headers(1), out: &out)
        #expect(events.last?.resetCode == .streamClosed && rstCodes(out)[1] == .streamClosed)
        #expect(goAwayCode(out) == nil && !conn.isClosed)
    }

    /// Only the most recent skipped ranges are kept: an older skipped id is answered as a
    /// closed stream, the connection kept.
    @Test func skippedRangesAreBounded() {
        var (conn, out) = Self.server()
        var client = Client()
        var bytes = client.preface()
        var sid: UInt32 = 1
        for _ in 0 ... HTTP2Connection.skippedPeerRangesMax {
            sid += 4
            bytes += client.headers(sid, endStream: true)
        }
        bytes += client.headers(3)
        var events = feed(conn, bytes, out: &out)
        #expect(events.last?.resetCode == .streamClosed && !conn.isClosed)
        events = feed(conn, client.headers(sid - 2), out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError && conn.isClosed)
    }

    @Test func peerResetIsReported() {
        var (conn, out) = Self.server()
        var client = Client()
        let events = feed(conn, client.preface() + client.headers(1) + rawFrame(3, stream: 1, [0, 0, 0, 8]), out: &out)
        guard case .streamReset(let sid, let code, let byPeer) = events.last else { Issue.record("\(events)"); return }
        #expect(sid == StreamID(1) && code == .cancel && byPeer)
        #expect(conn.activeStreamCount == 0)
    }

    @Test func gracefulGoAwayLetsOpenStreamsFinishAndRefusesNewOnes() {
        var (conn, out) = Self.server()
        var client = Client()
        feed(conn, client.preface() + client.headers(1, endStream: true), out: &out)
        conn.goAway(into: &out)
        let goAway = splitFrames(out.bytes).last!
        #expect(goAway.0.type == .goAway && goAway.1[3] == 1)  // last stream id 1
        let events = feed(conn, client.headers(3, endStream: true), out: &out)
        #expect(events.last?.resetCode == .refusedStream)
        #expect(!conn.isDrained)
        conn.sendHeaders(fields([(":status", "200")]), on: StreamID(1), endStream: true, into: &out)
        #expect(conn.isDrained)
    }

    /// §6.8: a later GOAWAY, graceful or for a connection error, never raises the last stream
    /// id, though the peer opened (and we refused) a stream above it in between.
    @Test func laterGoAwaysNeverRaiseTheLastStreamID() {
        var (conn, out) = Self.server()
        var client = Client()
        feed(conn, client.preface() + client.headers(1), out: &out)
        conn.goAway(into: &out)
        let events = feed(conn, client.headers(3, endStream: true), out: &out)
        #expect(events.last?.resetCode == .refusedStream)
        conn.goAway(into: &out)
        feed(conn, rawFrame(8, stream: 0, [0, 0, 0, 0]), out: &out)  // WINDOW_UPDATE of 0: connection error
        let lastStreamIDs = splitFrames(out.bytes).filter { $0.0.type == .goAway }.map {
            UInt32($0.1[0] & 0x7f) << 24 | UInt32($0.1[1]) << 16 | UInt32($0.1[2]) << 8 | UInt32($0.1[3])
        }
        #expect(lastStreamIDs == [1, 1, 1])
        #expect(goAwayCode(out) == .protocolError)
    }

    @Test func paddingIsCreditedBackWithoutTheApplication() {
        var (conn, out) = Self.server { $0.settings.initialWindowSize = 200; $0.connectionWindowBytes = 65_535 }
        var client = Client()
        let padded = rawFrame(0, flags: 0x8, stream: 1, [150] + [1, 2, 3] + [UInt8](repeating: 0, count: 150))
        let before = out.count
        feed(conn, client.preface() + client.headers(1) + padded, out: &out)
        let updates = splitFrames(Array(out.bytes[before...])).filter { $0.0.type == .windowUpdate }
        // 151 bytes (pad length byte + padding) ≥ half of the 200-byte stream window.
        #expect(updates.contains { $0.0.streamID == StreamID(1) && $0.1 == [0, 0, 0, 151] })
    }
}

extension ConnectionTests {
    /// §5.1: DATA still in flight after our RST_STREAM is ignored, and its connection window
    /// is credited back.
    @Test func dataAfterOurResetIsIgnoredButCredited() {
        var (conn, out) = Self.server { $0.connectionWindowBytes = 65_535 }
        var client = Client()
        feed(conn, client.preface() + client.headers(1), out: &out)
        conn.resetStream(StreamID(1), .cancel, into: &out)
        var bytes: [UInt8] = []
        for _ in 0..<8 { bytes += rawFrame(0, stream: 1, [UInt8](repeating: 1, count: 16_000)) }
        let before = out.count
        let events = feed(conn, bytes, out: &out)
        #expect(events.isEmpty)
        #expect(!conn.isClosed)
        let frames = splitFrames(Array(out.bytes[before...]))
        #expect(frames.allSatisfy { $0.0.type == .windowUpdate && $0.0.streamID == .connection })
        #expect(!frames.isEmpty)
    }
}

extension ConnectionTests {
    /// RFC 9113 §8.2–§8.3: malformed requests are stream errors (PROTOCOL_ERROR); the HPACK
    /// state survives, so the next request on the connection is fine.
    @Test(arguments: [
        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), ("X-Upper", "v")],
        [(":method", "POST"), (":scheme", "http"), ("a", "b"), (":path", "/a")],
        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), (":status", "200")],
        [(":method", "POST"), (":path", "/a")],
        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), ("connection", "close")],
        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), ("te", "gzip")],
        [(":method", "POST"), (":method", "GET"), (":scheme", "http"), (":path", "/a")],
        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), ("x-a", "b\r\nx-b: c")],
        [(":method", "POST"), (":scheme", "http"), (":path", "/a\nb")],
        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), ("x-a", "b\u{0}")],
    ])
    func malformedRequestsAreStreamErrors(_ pairs: [(String, String)]) {
        var (conn, out) = Self.server()
        var client = Client()
        var block = ByteWriter()
        client.encoder.encode(fields(pairs), into: &block)
        let bytes = client.preface() + rawFrame(1, flags: 5, stream: 1, block.bytes) + client.headers(3, endStream: true)
        let events = feed(conn, bytes, out: &out)
        #expect(rstCodes(out) == [1: .protocolError])
        guard case .headers(let sid, _, _) = events.last else { Issue.record("\(events)"); return }
        #expect(sid == StreamID(3))
    }

    @Test func trailersWithPseudoHeadersAreMalformed() {
        var (conn, out) = Self.server()
        var client = Client()
        var block = ByteWriter()
        client.encoder.encode(fields([(":path", "/x")]), into: &block)
        let bytes = client.preface() + client.headers(1) + rawFrame(1, flags: 5, stream: 1, block.bytes)
        let events = feed(conn, bytes, out: &out)
        #expect(events.last?.resetCode == .protocolError)
    }
}

extension ConnectionTests {
    /// §6.9.2: SETTINGS_INITIAL_WINDOW_SIZE shifts open streams' send windows; queued DATA
    /// waits at 0 and resumes as the window grows, never exceeding it.
    @Test func initialWindowChangesShiftQueuedSends() {
        var (conn, out) = Self.server()
        var client = Client()
        // The client announces a zero stream window before the request.
        let zeroWindow = rawFrame(4, stream: 0, [0, 4, 0, 0, 0, 0])
        feed(conn, HTTP2Connection.preface + zeroWindow + client.headers(1, endStream: true), out: &out)
        conn.sendHeaders(fields([(":status", "200")]), on: StreamID(1), endStream: false, into: &out)
        let body = [UInt8](repeating: 5, count: 300)
        var mark = out.count
        body.withUnsafeBytes { conn.sendData($0, on: StreamID(1), endStream: true, into: &out) }
        conn.sendHeaders(fields([("grpc-status", "0")]), on: StreamID(1), endStream: true, into: &out)
        #expect(splitFrames(Array(out.bytes[mark...])).isEmpty)  // nothing may be sent yet
        #expect(conn.pendingSendBytes(on: StreamID(1)) == 300)

        mark = out.count
        feed(conn, rawFrame(4, stream: 0, [0, 4, 0, 0, 0, 100]), out: &out)
        var data = splitFrames(Array(out.bytes[mark...])).filter { $0.0.type == .data }
        #expect(data.map { $0.0.length } == [100])

        mark = out.count
        feed(conn, rawFrame(8, stream: 1, [0, 0, 0x01, 0x00]), out: &out)  // +256
        let frames = splitFrames(Array(out.bytes[mark...]))
        data = frames.filter { $0.0.type == .data }
        #expect(data.map { $0.0.length } == [200])
        #expect(frames.last?.0.type == .headers && frames.last?.0.has(FrameFlags.endStream) == true)
        #expect(conn.activeStreamCount == 0)
    }

    /// Client role: a server may not push (we announce ENABLE_PUSH 0) nor open streams.
    @Test(arguments: [
        rawFrame(5, flags: 4, stream: 1, [0, 0, 0, 2, 0x88]),
        rawFrame(1, flags: 5, stream: 2, [0x88]),
        rawFrame(1, flags: 5, stream: 3, [0x88]),  // a stream the client never opened
    ])
    func clientRefusesServerInitiatedStreams(_ frame: [UInt8]) {
        let conn = HTTP2Connection(role: .client, configuration: .client)
        var out = ByteWriter()
        conn.start(into: &out)
        _ = conn.openStream(fields([(":method", "POST"), (":scheme", "http"), (":path", "/a"), (":authority", "x")]), endStream: true, into: &out)
        let events = feed(conn, rawFrame(4, stream: 0, []) + frame, out: &out)
        #expect(events.last?.connectionErrorCode == .protocolError)
    }

    /// §6.5.2: a server may announce ENABLE_PUSH only as 0; a client treats 1 as PROTOCOL_ERROR.
    @Test(arguments: [(UInt8(0), false), (UInt8(1), true)])
    func clientRefusesAServerThatEnablesPush(_ value: UInt8, refused: Bool) {
        let conn = HTTP2Connection(role: .client, configuration: .client)
        var out = ByteWriter()
        conn.start(into: &out)
        let events = feed(conn, rawFrame(4, stream: 0, [0, 2, 0, 0, 0, value]), out: &out)
        #expect(events.last?.connectionErrorCode == (refused ? .protocolError : nil))
        #expect(conn.isClosed == refused)
    }

    @Test func clientGetsResponseHeadersAndTrailers() {
        let conn = HTTP2Connection(role: .client, configuration: .client)
        var out = ByteWriter()
        conn.start(into: &out)
        let sid = conn.openStream(fields([(":method", "POST"), (":scheme", "http"), (":path", "/a"), (":authority", "x")]), endStream: true, into: &out)
        #expect(sid == StreamID(1))
        var enc = HPACKEncoder()
        var h = ByteWriter()
        enc.encode(fields([(":status", "200")]), into: &h)
        var t = ByteWriter()
        enc.encode(fields([("grpc-status", "0")]), into: &t)
        let events = feed(conn, rawFrame(4, stream: 0, []) + rawFrame(1, flags: 4, stream: 1, h.bytes) + rawFrame(1, flags: 5, stream: 1, t.bytes), out: &out)
        #expect(events.count == 3)
        guard case .headers(_, let trailers, true) = events.last else { Issue.record("\(events)"); return }
        #expect(trailers == fields([("grpc-status", "0")]))
        #expect(conn.activeStreamCount == 0)
    }
}
