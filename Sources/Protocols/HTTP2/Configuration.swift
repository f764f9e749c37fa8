/// grpc-go's server keepalive enforcement (`keepalive.EnforcementPolicy`): a PING sooner than
/// `minIntervalNs` after the previous one, or, with no stream open and without
/// `permitWithoutStream`, sooner than two hours after it, is a strike; HEADERS or DATA sent
/// since the previous PING forgive the strikes; a third strike ends the connection with
/// GOAWAY ENHANCE_YOUR_CALM `too_many_pings` (the words grpc clients back off on).
public struct HTTP2PingPolicy: Sendable, Equatable {
    public var minIntervalNs: UInt64
    public var permitWithoutStream: Bool

    public init(minIntervalNs: UInt64, permitWithoutStream: Bool) {
        self.minIntervalNs = minIntervalNs
        self.permitWithoutStream = permitWithoutStream
    }

    /// Strikes a connection may have; one more ends it (grpc-go's `maxPingStrikes`).
    static let strikesMax = 2
    /// The interval a PING on a connection without streams must keep when not permitted.
    static let withoutStreamIntervalNs: UInt64 = 7_200_000_000_000
}

/// Which end of the connection this object is.
public enum HTTP2Role: Sendable { case server, client }

/// What one endpoint announces and enforces. Every bound on what a peer can make us hold
/// is here (style: a limit on everything).
public struct HTTP2Configuration: Sendable {
    /// Announced in our SETTINGS frame and enforced on what we receive.
    public var settings: HTTP2Settings
    /// Receive window of the whole connection; raised from the RFC's 65,535 right after the
    /// preface with a WINDOW_UPDATE on stream 0.
    public var connectionWindowBytes: Int
    /// Largest header block accumulated across HEADERS and CONTINUATION frames.
    public var headerBlockBytesMax: Int
    /// How often a client may PING a server (nil: every PING is answered, none counted).
    public var pingPolicy: HTTP2PingPolicy?

    public init(settings: HTTP2Settings, connectionWindowBytes: Int, headerBlockBytesMax: Int) {
        precondition(connectionWindowBytes >= 65_535 && connectionWindowBytes <= HTTP2Settings.maxWindowSize)
        self.settings = settings
        self.connectionWindowBytes = connectionWindowBytes
        self.headerBlockBytesMax = headerBlockBytesMax
    }

    /// gRPC server defaults: 100 concurrent streams (`-server.grpc-max-concurrent-streams`,
    /// ingest-and-ops.md §5.2), no push, 1 MiB stream and 16 MiB connection windows so a
    /// 100 MiB Push needs few round trips.
    public static var server: HTTP2Configuration {
        var s = HTTP2Settings()
        s.enablePush = false
        s.maxConcurrentStreams = 100
        s.initialWindowSize = 1 << 20
        s.maxHeaderListSize = 65_536
        return HTTP2Configuration(settings: s, connectionWindowBytes: 1 << 24, headerBlockBytesMax: 65_536)
    }

    public static var client: HTTP2Configuration {
        var s = HTTP2Settings()
        s.enablePush = false
        s.initialWindowSize = 1 << 20
        s.maxHeaderListSize = 65_536
        return HTTP2Configuration(settings: s, connectionWindowBytes: 1 << 24, headerBlockBytesMax: 65_536)
    }
}

/// What a connection reports after consuming received bytes.
public enum HTTP2Event {
    /// The peer's SETTINGS were applied (and acknowledged).
    case settings(HTTP2Settings)
    /// A complete header block: request or response headers, or trailers (`endStream`).
    case headers(StreamID, [HeaderField], endStream: Bool)
    /// Payload of a DATA frame, padding removed. The view is valid until the next call to
    /// `next`. Report what the application is done with through `consume` so the windows
    /// are replenished.
    case data(StreamID, UnsafeRawBufferPointer, endStream: Bool)
    /// A stream ended abnormally: by the peer's RST_STREAM or by a stream error we answered
    /// with RST_STREAM.
    case streamReset(StreamID, HTTP2ErrorCode, byPeer: Bool)
    case pingAck(opaque: UInt64)
    case goAway(lastStreamID: StreamID, HTTP2ErrorCode, debug: [UInt8])
    /// A connection error: GOAWAY was written, nothing more is read. Close after flushing.
    case connectionError(HTTP2ErrorCode, String)
}
