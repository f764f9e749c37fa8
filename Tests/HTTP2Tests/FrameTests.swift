import BinaryCoding
import Testing
@testable import HTTP2

/// Serialise every frame type of RFC 9113 §6, parse it back, compare.
@Suite struct FrameTests {
    func parse(_ bytes: [UInt8]) throws -> (FrameHeader, FramePayloadCopy) {
        let raw = RawBytes(bytes)
        defer { withExtendedLifetime(raw) {} }
        let header = FrameHeader.parse(raw.view)
        #expect(header.length == bytes.count - FrameHeader.size)
        let frame = try Frame.parse(header, UnsafeRawBufferPointer(rebasing: raw.view[FrameHeader.size...]))
        return (header, FramePayloadCopy(frame.payload))
    }

    @Test func roundTripsEveryFrameType() throws {
        var w = ByteWriter()
        [UInt8]([1, 2, 3]).withUnsafeBytes { w.appendDataFrame(stream: StreamID(1), $0, endStream: true) }
        #expect(try parse(w.bytes).1 == .data([1, 2, 3], endStream: true))

        w = ByteWriter()
        [UInt8]([0x82, 0x86]).withUnsafeBytes { w.appendHeaderBlock(stream: StreamID(3), $0, endStream: false, maxFrameSize: 16_384) }
        let (h, p) = try parse(w.bytes)
        #expect(h.type == .headers && h.streamID == StreamID(3) && h.flags == FrameFlags.endHeaders)
        #expect(p == .headers([0x82, 0x86], endStream: false, endHeaders: true))

        w = ByteWriter()
        w.appendPriorityFrame(stream: StreamID(5), PriorityInfo(exclusive: true, dependency: StreamID(3), weight: 200))
        #expect(try parse(w.bytes).1 == .priority(PriorityInfo(exclusive: true, dependency: StreamID(3), weight: 200)))

        w = ByteWriter()
        w.appendRstStreamFrame(stream: StreamID(7), .cancel)
        #expect(try parse(w.bytes).1 == .rstStream(.cancel))

        w = ByteWriter()
        w.appendSettingsFrame([(.maxConcurrentStreams, 100), (.initialWindowSize, 1 << 20)])
        #expect(try parse(w.bytes).1 == .settings(ack: false, [3, 100, 4, 1 << 20]))
        w = ByteWriter()
        w.appendSettingsAck()
        #expect(try parse(w.bytes).1 == .settings(ack: true, []))

        w = ByteWriter()
        [UInt8]([0x82]).withUnsafeBytes { w.appendPushPromiseFrame(stream: StreamID(1), promised: StreamID(2), $0) }
        #expect(try parse(w.bytes).1 == .pushPromise(promised: 2, [0x82]))

        w = ByteWriter()
        w.appendPingFrame(opaque: 0x0102_0304_0506_0708, ack: true)
        #expect(try parse(w.bytes).1 == .ping(ack: true, 0x0102_0304_0506_0708))

        w = ByteWriter()
        w.appendGoAwayFrame(lastStreamID: StreamID(9), .enhanceYourCalm, debug: "too_many_pings")
        #expect(try parse(w.bytes).1 == .goAway(last: 9, .enhanceYourCalm, Array("too_many_pings".utf8)))

        w = ByteWriter()
        w.appendWindowUpdateFrame(stream: StreamID(0), increment: 0x7fff_ffff)
        #expect(try parse(w.bytes).1 == .windowUpdate(0x7fff_ffff))

        #expect(try parse(rawFrame(9, flags: 4, stream: 1, [0x84])).1 == .continuation([0x84], endHeaders: true))
        #expect(try parse(rawFrame(0xfa, stream: 0, [1, 2])).1 == .unknown)
    }

    @Test func paddingIsStripped() throws {
        // DATA, PADDED: pad length 2, body "ab", 2 bytes padding.
        #expect(try parse(rawFrame(0, flags: 0x8, stream: 1, [2, 0x61, 0x62, 0, 0])).1 == .data([0x61, 0x62], endStream: false))
        // HEADERS, PADDED | PRIORITY.
        let p = try parse(rawFrame(1, flags: 0x8 | 0x20 | 0x4, stream: 1, [1, 0, 0, 0, 0, 16, 0x82, 0])).1
        #expect(p == .headers([0x82], endStream: false, endHeaders: true))
    }

    @Test func largeHeaderBlockSplitsIntoContinuations() throws {
        let block = [UInt8](repeating: 0x82, count: 40_000)
        var w = ByteWriter()
        block.withUnsafeBytes { w.appendHeaderBlock(stream: StreamID(1), $0, endStream: true, maxFrameSize: 16_384) }
        let frames = splitFrames(w.bytes)
        #expect(frames.map { $0.0.type } == [.headers, .continuation, .continuation])
        #expect(frames.map { $0.0.length } == [16_384, 16_384, 40_000 - 32_768])
        #expect(frames.map { $0.0.flags } == [FrameFlags.endStream, 0, FrameFlags.endHeaders])
        #expect(frames.flatMap { $0.1 } == block)
    }

    @Test(arguments: [
        (rawFrame(0, stream: 0, [1]), HTTP2ErrorCode.protocolError),                 // DATA on stream 0
        (rawFrame(0, flags: 0x8, stream: 1, [5, 1, 2]), .protocolError),             // padding exceeds payload
        (rawFrame(3, stream: 1, [0, 0, 0]), .frameSizeError),                        // RST_STREAM of 3 bytes
        (rawFrame(4, stream: 0, [0, 1, 0, 0]), .frameSizeError),                     // SETTINGS not a multiple of 6
        (rawFrame(4, flags: 1, stream: 0, [0, 1, 0, 0, 0, 0]), .frameSizeError),     // SETTINGS ACK with payload
        (rawFrame(4, stream: 1, []), .protocolError),                                // SETTINGS on a stream
        (rawFrame(6, stream: 0, [1, 2, 3]), .frameSizeError),                        // short PING
        (rawFrame(7, stream: 0, [0, 0, 0]), .frameSizeError),                        // short GOAWAY
        (rawFrame(8, stream: 0, [0, 0, 1]), .frameSizeError),                        // short WINDOW_UPDATE
    ])
    func malformedFramesAreConnectionErrors(_ bytes: [UInt8], _ code: HTTP2ErrorCode) {
        do {
            _ = try parse(bytes)
            Issue.record("parsed a malformed frame")
        } catch let error as HTTP2ProtocolError {
            guard case .connection(let got, _) = error else { Issue.record("\(error)"); return }
            #expect(got == code)
        } catch {
            Issue.record("\(error)")
        }
    }
}

/// A payload with its views copied, so it can be compared.
enum FramePayloadCopy: Equatable {
    case data([UInt8], endStream: Bool)
    case headers([UInt8], endStream: Bool, endHeaders: Bool)
    case priority(PriorityInfo)
    case rstStream(HTTP2ErrorCode)
    case settings(ack: Bool, [UInt32])
    case pushPromise(promised: UInt32, [UInt8])
    case ping(ack: Bool, UInt64)
    case goAway(last: UInt32, HTTP2ErrorCode, [UInt8])
    case windowUpdate(UInt32)
    case continuation([UInt8], endHeaders: Bool)
    case unknown

    init(_ p: FramePayload) {
        switch p {
        case .data(let b, let e): self = .data(Array(b), endStream: e)
        case .headers(let b, let e, let h, _): self = .headers(Array(b), endStream: e, endHeaders: h)
        case .priority(let p): self = .priority(p)
        case .rstStream(let c): self = .rstStream(c)
        case .settings(let ack, let params): self = .settings(ack: ack, params.flatMap { [UInt32($0.0.rawValue), $0.1] })
        case .pushPromise(let id, let b, _): self = .pushPromise(promised: id.rawValue, Array(b))
        case .ping(let ack, let o): self = .ping(ack: ack, o)
        case .goAway(let last, let code, let debug): self = .goAway(last: last.rawValue, code, Array(debug))
        case .windowUpdate(let i): self = .windowUpdate(i)
        case .continuation(let b, let e): self = .continuation(Array(b), endHeaders: e)
        case .unknown: self = .unknown
        }
    }
}
