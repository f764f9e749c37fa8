import HTTP2

/// The limits on a gRPC connection's life that Pyroscope's server (dskit over grpc-go) applies:
/// `server.grpc.keepalive.*` and grpc-go's `ConnectionTimeout` for the HTTP/2 handshake.
/// `UInt64.max` is never. Zero values are resolved as grpc-go does before they get here.
struct GRPCConnectionLimits: Sendable, Equatable {
    /// The client's preface and SETTINGS must arrive within this (grpc-go: 120 s).
    var handshakeNs: UInt64 = 120_000_000_000
    /// With no call open this long, GOAWAY and close (`max-connection-idle`).
    var maxIdleNs: UInt64 = .max
    /// At this age GOAWAY: open calls finish, new ones go elsewhere (`max-connection-age`,
    /// ±10 % jitter per connection so that reconnections spread out).
    var maxAgeNs: UInt64 = .max
    /// After that GOAWAY, calls still open get this long before the connection closes.
    var maxAgeGraceNs: UInt64 = .max
    /// After this long without a byte from the client, a PING (`keepalive.time`)…
    var keepaliveTimeNs: UInt64 = 7_200_000_000_000
    /// …and the connection closes if nothing at all arrives this long after it (`keepalive.timeout`).
    var keepaliveTimeoutNs: UInt64 = 20_000_000_000
}

extension GRPCConnectionLimits {
    /// From the `server.grpc.keepalive.*` settings, zero and negative values resolved as
    /// grpc-go's server resolves zero: never for idle, age and grace, 2 h and 20 s for the
    /// keepalive time and timeout; a non-positive connection timeout is never.
    init(_ server: SegmentWriterConfig.Server) {
        func orNever(_ ns: Int64) -> UInt64 { ns <= 0 || ns == .max ? .max : UInt64(ns) }
        func or(_ fallback: UInt64, _ ns: Int64) -> UInt64 { ns <= 0 ? fallback : UInt64(ns) }
        let defaults = GRPCConnectionLimits()
        self.init(handshakeNs: orNever(server.grpcConnectionTimeoutNs),
                  maxIdleNs: orNever(server.grpcKeepaliveMaxConnectionIdleNs),
                  maxAgeNs: orNever(server.grpcKeepaliveMaxConnectionAgeNs),
                  maxAgeGraceNs: orNever(server.grpcKeepaliveMaxConnectionAgeGraceNs),
                  keepaliveTimeNs: or(defaults.keepaliveTimeNs, server.grpcKeepaliveTimeNs),
                  keepaliveTimeoutNs: or(defaults.keepaliveTimeoutNs, server.grpcKeepaliveTimeoutNs))
    }
}

extension HTTP2PingPolicy {
    /// From `-server.grpc.keepalive.min-time-between-pings` (0 or less: grpc-go's 5 m) and
    /// `-server.grpc.keepalive.ping-without-stream-allowed`.
    init(_ server: SegmentWriterConfig.Server) {
        let minimum = server.grpcKeepaliveMinTimeBetweenPingsNs
        self.init(minIntervalNs: minimum > 0 ? UInt64(minimum) : 300_000_000_000,
                  permitWithoutStream: server.grpcKeepalivePingWithoutStreamAllowed)
    }
}

/// One connection's clocks against `GRPCConnectionLimits`: what is due when, and what to do
/// then. Pure (times are passed in) so that each rule is tested without sockets; the handler
/// does the I/O. A byte received only stamps `lastReadNs`: the deadline a read would move is
/// looked at again when it passes, so reads cost no recomputation.
struct GRPCConnectionLifetime {
    enum Action: Equatable {
        case nothing
        case ping
        /// GOAWAY with grpc-go's reason; close at once when no call is open.
        case goAway(reason: String)
        /// Close now (no GOAWAY: the peer is not there, or had its grace).
        case close(reason: String)
    }

    let limits: GRPCConnectionLimits
    let openedNs: UInt64
    /// `maxAgeNs` with this connection's jitter.
    let ageNs: UInt64
    private(set) var lastReadNs: UInt64
    /// Since when no call is open; nil while one is.
    private(set) var idleSinceNs: UInt64?
    private(set) var pingSentNs: UInt64?
    /// When the GOAWAY for age went out.
    private(set) var drainingSinceNs: UInt64?

    /// `jitter` in [-1, 1] scales ±10 % of the age limit (grpc-go's `getJitter`).
    init(limits: GRPCConnectionLimits, openedNs: UInt64, jitter: Double) {
        self.limits = limits
        self.openedNs = openedNs
        if limits.maxAgeNs == .max {
            ageNs = .max
        } else {
            let offset = Double(limits.maxAgeNs) * 0.1 * max(-1, min(1, jitter))
            ageNs = UInt64(max(0, Double(limits.maxAgeNs) + offset))
        }
        lastReadNs = openedNs
        idleSinceNs = openedNs
    }

    mutating func received(nowNs: UInt64) { lastReadNs = nowNs }

    mutating func callOpened() { idleSinceNs = nil }

    mutating func lastCallEnded(nowNs: UInt64) { idleSinceNs = nowNs }

    var isDraining: Bool { drainingSinceNs != nil }

    /// The earliest time something may be due; `UInt64.max` for never.
    func nextDeadlineNs(established: Bool) -> UInt64 {
        var next = UInt64.max
        if !established { next = min(next, openedNs +| limits.handshakeNs) }
        if let idle = idleSinceNs { next = min(next, idle +| limits.maxIdleNs) }
        if let draining = drainingSinceNs {
            next = min(next, draining +| limits.maxAgeGraceNs)
        } else {
            next = min(next, openedNs +| ageNs)
        }
        if established {
            next = min(next, pingSentNs.map { $0 +| limits.keepaliveTimeoutNs } ?? lastReadNs +| limits.keepaliveTimeNs)
        }
        return next
    }

    /// What is due at `nowNs`, most urgent first; call again until `.nothing`.
    mutating func due(nowNs: UInt64, established: Bool) -> Action {
        if !established {
            if nowNs >= openedNs +| limits.handshakeNs { return .close(reason: "no HTTP/2 handshake within the connection timeout") }
        } else if let sent = pingSentNs {
            if lastReadNs > sent {
                pingSentNs = nil
            } else if nowNs >= sent +| limits.keepaliveTimeoutNs {
                return .close(reason: "keepalive ping not acknowledged within the timeout")
            }
        }
        if let draining = drainingSinceNs {
            if nowNs >= draining +| limits.maxAgeGraceNs { return .close(reason: "max connection age grace ended") }
        } else if nowNs >= openedNs +| ageNs {
            drainingSinceNs = nowNs
            return .goAway(reason: "max_age")
        }
        if let idle = idleSinceNs, nowNs >= idle +| limits.maxIdleNs {
            idleSinceNs = nil
            return .goAway(reason: "max_idle")
        }
        if established, pingSentNs == nil, nowNs >= lastReadNs +| limits.keepaliveTimeNs {
            pingSentNs = nowNs
            return .ping
        }
        return .nothing
    }
}

infix operator +| : AdditionPrecedence

/// Saturating addition: a limit of "never" plus a time stays never.
private func +| (a: UInt64, b: UInt64) -> UInt64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : sum
}
