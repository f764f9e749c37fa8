@testable import SegmentWriterService
import Testing

/// grpc-go's connection rules, clock by clock (`GRPCConnectionLifetime` takes times as values).
@Suite struct GRPCConnectionLifetimeTests {
    private let s: UInt64 = 1_000_000_000

    private func lifetime(_ change: (inout GRPCConnectionLimits) -> Void = { _ in }, jitter: Double = 0) -> GRPCConnectionLifetime {
        var limits = GRPCConnectionLimits()
        change(&limits)
        return GRPCConnectionLifetime(limits: limits, openedNs: 1_000 * s, jitter: jitter)
    }

    @Test func aConnectionWithoutHandshakeIsClosedAtTheConnectionTimeout() {
        var l = lifetime()
        #expect(l.nextDeadlineNs(established: false) == 1_120 * s)
        #expect(l.due(nowNs: 1_119 * s, established: false) == .nothing)
        #expect(l.due(nowNs: 1_120 * s, established: false) == .close(reason: "no HTTP/2 handshake within the connection timeout"))
        // Once established the handshake limit is gone; the next is the keepalive ping at 2h.
        #expect(l.due(nowNs: 1_120 * s, established: true) == .nothing)
        #expect(l.nextDeadlineNs(established: true) == (1_000 + 7_200) * s)
    }

    @Test func aSilentClientIsPingedThenClosedUnlessSomethingArrives() {
        var l = lifetime { $0.keepaliveTimeNs = 10 * s; $0.keepaliveTimeoutNs = 2 * s }
        l.received(nowNs: 1_005 * s)
        #expect(l.due(nowNs: 1_014 * s, established: true) == .nothing)
        #expect(l.nextDeadlineNs(established: true) == 1_015 * s)
        #expect(l.due(nowNs: 1_015 * s, established: true) == .ping)
        #expect(l.due(nowNs: 1_015 * s, established: true) == .nothing, "one ping outstanding at a time")
        #expect(l.nextDeadlineNs(established: true) == 1_017 * s)
        // The ping's ACK (any bytes) clears it; the next ping is 10 s after that.
        l.received(nowNs: 1_016 * s)
        #expect(l.due(nowNs: 1_017 * s, established: true) == .nothing)
        #expect(l.nextDeadlineNs(established: true) == 1_026 * s)
        #expect(l.due(nowNs: 1_026 * s, established: true) == .ping)
        #expect(l.due(nowNs: 1_028 * s, established: true) == .close(reason: "keepalive ping not acknowledged within the timeout"))
    }

    @Test func idleMeansNoCallOpenSinceTheLastEnded() {
        var l = lifetime { $0.maxIdleNs = 60 * s }
        #expect(l.nextDeadlineNs(established: true) == 1_060 * s, "idle from the start")
        l.callOpened()
        #expect(l.due(nowNs: 1_100 * s, established: true) == .nothing, "a call is open")
        l.lastCallEnded(nowNs: 1_100 * s)
        #expect(l.due(nowNs: 1_159 * s, established: true) == .nothing)
        #expect(l.due(nowNs: 1_160 * s, established: true) == .goAway(reason: "max_idle"))
    }

    @Test func atItsAgeAConnectionGetsGoAwayThenItsGrace() {
        var l = lifetime { $0.maxAgeNs = 100 * s; $0.maxAgeGraceNs = 5 * s }
        l.callOpened()
        #expect(l.nextDeadlineNs(established: true) == 1_100 * s)
        #expect(l.due(nowNs: 1_100 * s, established: true) == .goAway(reason: "max_age"))
        #expect(l.isDraining)
        #expect(l.due(nowNs: 1_104 * s, established: true) == .nothing)
        #expect(l.nextDeadlineNs(established: true) == 1_105 * s)
        #expect(l.due(nowNs: 1_105 * s, established: true) == .close(reason: "max connection age grace ended"))
    }

    @Test func theAgeIsJitteredByTenPercentEitherWay() {
        #expect(lifetime({ $0.maxAgeNs = 100 * s }, jitter: -1).ageNs == 90 * s)
        #expect(lifetime({ $0.maxAgeNs = 100 * s }, jitter: 1).ageNs == 110 * s)
        #expect(lifetime({ $0.maxAgeNs = .max }, jitter: 1).ageNs == .max)
    }

    @Test func neverMeansNoDeadlineAtAll() {
        var l = lifetime { $0.handshakeNs = .max }
        #expect(l.nextDeadlineNs(established: false) == .max)
        #expect(l.due(nowNs: .max - 1, established: false) == .nothing)
    }
}
