import BinaryCoding

/// A stream identifier (RFC 9113 §5.1.1): 31 bits; 0 addresses the connection.
public struct StreamID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }

    public static let connection = StreamID(0)
    public static let max = StreamID(0x7fff_ffff)

    public var isClientInitiated: Bool { rawValue & 1 == 1 }
    public static func < (a: StreamID, b: StreamID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// RFC 9113 §6 frame types; unknown types are kept so they can be ignored (§5.5).
public struct FrameType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let data = FrameType(rawValue: 0x0)
    public static let headers = FrameType(rawValue: 0x1)
    public static let priority = FrameType(rawValue: 0x2)
    public static let rstStream = FrameType(rawValue: 0x3)
    public static let settings = FrameType(rawValue: 0x4)
    public static let pushPromise = FrameType(rawValue: 0x5)
    public static let ping = FrameType(rawValue: 0x6)
    public static let goAway = FrameType(rawValue: 0x7)
    public static let windowUpdate = FrameType(rawValue: 0x8)
    public static let continuation = FrameType(rawValue: 0x9)
}

/// Frame flag bits (RFC 9113 §6); their meaning depends on the frame type.
public enum FrameFlags {
    public static let endStream: UInt8 = 0x1
    public static let ack: UInt8 = 0x1
    public static let endHeaders: UInt8 = 0x4
    public static let padded: UInt8 = 0x8
    public static let priority: UInt8 = 0x20
}

/// The 9-byte frame header (RFC 9113 §4.1).
public struct FrameHeader: Hashable, Sendable {
    public static let size = 9
    public var length: Int
    public var type: FrameType
    public var flags: UInt8
    public var streamID: StreamID

    public init(length: Int, type: FrameType, flags: UInt8, streamID: StreamID) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    /// Reads a header from the first 9 bytes; the reserved bit of the stream id is ignored.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> FrameHeader {
        precondition(bytes.count >= size)
        let length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        let sid = UInt32(bytes[5]) << 24 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 8 | UInt32(bytes[8])
        return FrameHeader(length: length, type: FrameType(rawValue: bytes[3]), flags: bytes[4],
                           streamID: StreamID(sid & 0x7fff_ffff))
    }

    @inlinable public func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
}

/// PRIORITY information (RFC 9113 §6.3); deprecated, parsed only to validate and skip.
public struct PriorityInfo: Hashable, Sendable {
    public var exclusive: Bool
    public var dependency: StreamID
    public var weight: UInt8
    public init(exclusive: Bool, dependency: StreamID, weight: UInt8) {
        self.exclusive = exclusive
        self.dependency = dependency
        self.weight = weight
    }
}

/// A parsed frame payload. Views point into the bytes the frame was parsed from and are valid
/// only as long as those bytes are.
public enum FramePayload {
    case data(UnsafeRawBufferPointer, endStream: Bool)
    case headers(UnsafeRawBufferPointer, endStream: Bool, endHeaders: Bool, priority: PriorityInfo?)
    case priority(PriorityInfo)
    case rstStream(HTTP2ErrorCode)
    case settings(ack: Bool, [(SettingID, UInt32)])
    case pushPromise(promised: StreamID, UnsafeRawBufferPointer, endHeaders: Bool)
    case ping(ack: Bool, opaque: UInt64)
    case goAway(lastStreamID: StreamID, HTTP2ErrorCode, debug: UnsafeRawBufferPointer)
    case windowUpdate(increment: UInt32)
    case continuation(UnsafeRawBufferPointer, endHeaders: Bool)
    case unknown
}

public struct Frame {
    public var header: FrameHeader
    public var payload: FramePayload

    /// Parses the payload of a frame whose header was read already; `bytes` is exactly
    /// `header.length` long. Checks every length and stream-id rule of RFC 9113 §6 that needs
    /// no connection state.
    public static func parse(_ header: FrameHeader, _ bytes: UnsafeRawBufferPointer) throws(HTTP2ProtocolError) -> Frame {
        precondition(bytes.count == header.length)
        let sid = header.streamID
        func connection(_ code: HTTP2ErrorCode, _ why: String) -> HTTP2ProtocolError { .connection(code, why) }
        switch header.type {
        case .data:
            if sid == .connection { throw connection(.protocolError, "DATA on stream 0") }
            let body = try unpadded(header, bytes)
            return Frame(header: header, payload: .data(body, endStream: header.has(FrameFlags.endStream)))
        case .headers:
            if sid == .connection { throw connection(.protocolError, "HEADERS on stream 0") }
            var body = try unpadded(header, bytes)
            var priority: PriorityInfo?
            if header.has(FrameFlags.priority) {
                guard body.count >= 5 else { throw connection(.frameSizeError, "HEADERS too short for priority") }
                priority = readPriority(body)
                body = UnsafeRawBufferPointer(rebasing: body[5...])
            }
            return Frame(header: header, payload: .headers(body, endStream: header.has(FrameFlags.endStream),
                                                          endHeaders: header.has(FrameFlags.endHeaders), priority: priority))
        case .priority:
            if sid == .connection { throw connection(.protocolError, "PRIORITY on stream 0") }
            guard bytes.count == 5 else { throw .stream(sid, .frameSizeError, "PRIORITY length \(bytes.count)") }
            return Frame(header: header, payload: .priority(readPriority(bytes)))
        case .rstStream:
            if sid == .connection { throw connection(.protocolError, "RST_STREAM on stream 0") }
            guard bytes.count == 4 else { throw connection(.frameSizeError, "RST_STREAM length \(bytes.count)") }
            return Frame(header: header, payload: .rstStream(HTTP2ErrorCode(rawValue: be32(bytes, 0))))
        case .settings:
            if sid != .connection { throw connection(.protocolError, "SETTINGS on stream \(sid)") }
            let ack = header.has(FrameFlags.ack)
            if ack && bytes.count != 0 { throw connection(.frameSizeError, "SETTINGS ACK with payload") }
            guard bytes.count % 6 == 0 else { throw connection(.frameSizeError, "SETTINGS length \(bytes.count)") }
            var params: [(SettingID, UInt32)] = []
            params.reserveCapacity(bytes.count / 6)
            var i = 0
            while i < bytes.count {
                params.append((SettingID(rawValue: UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])), be32(bytes, i + 2)))
                i += 6
            }
            return Frame(header: header, payload: .settings(ack: ack, params))
        case .pushPromise:
            if sid == .connection { throw connection(.protocolError, "PUSH_PROMISE on stream 0") }
            let body = try unpadded(header, bytes)
            guard body.count >= 4 else { throw connection(.frameSizeError, "PUSH_PROMISE too short") }
            let promised = StreamID(be32(body, 0) & 0x7fff_ffff)
            return Frame(header: header, payload: .pushPromise(promised: promised, UnsafeRawBufferPointer(rebasing: body[4...]),
                                                              endHeaders: header.has(FrameFlags.endHeaders)))
        case .ping:
            if sid != .connection { throw connection(.protocolError, "PING on stream \(sid)") }
            guard bytes.count == 8 else { throw connection(.frameSizeError, "PING length \(bytes.count)") }
            let opaque = UInt64(be32(bytes, 0)) << 32 | UInt64(be32(bytes, 4))
            return Frame(header: header, payload: .ping(ack: header.has(FrameFlags.ack), opaque: opaque))
        case .goAway:
            if sid != .connection { throw connection(.protocolError, "GOAWAY on stream \(sid)") }
            guard bytes.count >= 8 else { throw connection(.frameSizeError, "GOAWAY length \(bytes.count)") }
            return Frame(header: header, payload: .goAway(lastStreamID: StreamID(be32(bytes, 0) & 0x7fff_ffff),
                                                         HTTP2ErrorCode(rawValue: be32(bytes, 4)),
                                                         debug: UnsafeRawBufferPointer(rebasing: bytes[8...])))
        case .windowUpdate:
            guard bytes.count == 4 else { throw connection(.frameSizeError, "WINDOW_UPDATE length \(bytes.count)") }
            return Frame(header: header, payload: .windowUpdate(increment: be32(bytes, 0) & 0x7fff_ffff))
        case .continuation:
            if sid == .connection { throw connection(.protocolError, "CONTINUATION on stream 0") }
            return Frame(header: header, payload: .continuation(bytes, endHeaders: header.has(FrameFlags.endHeaders)))
        default:
            return Frame(header: header, payload: .unknown)
        }
    }

    /// Strips the pad length byte and padding (RFC 9113 §6.1); padding that does not fit is a
    /// connection error of type PROTOCOL_ERROR.
    private static func unpadded(_ header: FrameHeader, _ bytes: UnsafeRawBufferPointer) throws(HTTP2ProtocolError) -> UnsafeRawBufferPointer {
        guard header.has(FrameFlags.padded) else { return bytes }
        guard bytes.count >= 1 else { throw .connection(.frameSizeError, "padded frame without pad length") }
        let pad = Int(bytes[0])
        guard pad < bytes.count else { throw .connection(.protocolError, "padding \(pad) exceeds payload \(bytes.count - 1)") }
        return UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - pad)])
    }

    private static func readPriority(_ b: UnsafeRawBufferPointer) -> PriorityInfo {
        let dep = be32(b, 0)
        return PriorityInfo(exclusive: dep & 0x8000_0000 != 0, dependency: StreamID(dep & 0x7fff_ffff), weight: b[4])
    }
}

@inline(__always)
func be32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
}
