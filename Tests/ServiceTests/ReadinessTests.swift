import Foundation
import SegmentWriterService
import Membership
import Testing

/// What each shutdown phase lets through (ingest-and-ops.md §5.4–5.5): Pushes until the drain,
/// gRPC health until the ring grace, `/ready` only while serving.
@Suite struct ReadinessTests {
    @Test func eachPhaseAdmitsPushesAndReportsHealthAsUpstream() {
        let expected: [(Readiness.State, pushes: Bool, health: Bool, ready: Bool)] = [
            (.starting, false, false, false),
            (.serving, true, true, true),
            (.delayingShutdown, true, true, false),
            (.leavingRing, true, false, false),
            (.draining, false, false, false),
            (.stopped, false, false, false),
        ]
        let readiness = Readiness()
        for (state, pushes, health, ready) in expected {
            readiness.advance(to: state)
            #expect(readiness.state == state)
            #expect(readiness.admitsPushes == pushes, "\(state)")
            #expect(readiness.isHealthServing == health, "\(state)")
            #expect(readiness.isServing == ready, "\(state)")
        }
    }

    @Test func phasesOnlyMoveForward() {
        let readiness = Readiness()
        readiness.advance(to: .leavingRing)
        readiness.advance(to: .delayingShutdown)
        #expect(readiness.state == .leavingRing)
        readiness.advance(to: .draining)
        readiness.advance(to: .serving)
        #expect(readiness.state == .draining)
    }

    static let settings = RingReadiness.Settings(instanceID: "me", checkAllInstances: true,
                                                 heartbeatTimeoutNs: 60_000_000_000, minReadyNs: 1_000_000_000)
    static let nowNs: Int64 = 1_700_000_100_000_000_000
    static func instance(_ id: String, secondsAgo: Int64 = 5, state: UInt64 = 0) -> RingInstance {
        RingInstance(id: id, addr: "10.0.0.\(id.count):9095", timestamp: nowNs / 1_000_000_000 - secondsAgo, state: state, tokenCount: 4)
    }

    /// Upstream's lifecycler readiness (dskit `CheckReady`, §5.4): in a ring, `/ready` waits until
    /// the ring check passes, then `min_ready_duration`; a failed check restarts that wait; once
    /// ready it latches.
    @Test func inARingReadyWaitsForTheRingCheckThenTheMinReadyDuration() throws {
        let readiness = Readiness()
        readiness.requireRing(Self.settings)
        readiness.advance(to: .serving)
        let t0: UInt64 = 1_000_000_000_000
        #expect(readiness.ringWait(nowNs: Self.nowNs, monotonicNs: t0)?.contains("owns no tokens") == true)
        #expect(!readiness.isServing)
        #expect(readiness.admitsPushes && readiness.isHealthServing, "Pushes and health do not wait on the ring")
        // The first reply predates the member's merge of our entry.
        #expect(readiness.ringSeen([Self.instance("other")], nowNs: Self.nowNs, monotonicNs: t0) == "instance me not found in the ring")
        // Another instance past the heartbeat timeout, then LEAVING: not ready, in dskit's words.
        let stale = [Self.instance("me"), Self.instance("other", secondsAgo: 61)]
        #expect(readiness.ringSeen(stale, nowNs: Self.nowNs, monotonicNs: t0) == "instance 10.0.0.5:9095 past heartbeat timeout")
        let leaving = [Self.instance("me"), Self.instance("other", secondsAgo: 1, state: 1)]
        // LEFT entries are tombstones (dskit's KV hides them from the lifecycler), however old.
        #expect(readiness.ringSeen([Self.instance("me"), Self.instance("gone", secondsAgo: 900, state: 4)], nowNs: Self.nowNs,
                                   monotonicNs: t0) == "waiting for 1s after being ready")
        #expect(readiness.ringSeen([Self.instance("me", state: 4)], nowNs: Self.nowNs, monotonicNs: t0) == "instance me not found in the ring")
        #expect(readiness.ringSeen(leaving, nowNs: Self.nowNs, monotonicNs: t0) == "instance 10.0.0.5:9095 in state LEAVING")
        // Healthy: the min-ready wait starts; a failed check restarts it.
        let healthy = [Self.instance("me"), Self.instance("other", secondsAgo: 60)]
        #expect(readiness.ringSeen(healthy, nowNs: Self.nowNs, monotonicNs: t0) == "waiting for 1s after being ready")
        #expect(readiness.ringWait(nowNs: Self.nowNs, monotonicNs: t0 + 600_000_000) == "waiting for 1s after being ready")
        #expect(readiness.ringSeen(leaving, nowNs: Self.nowNs, monotonicNs: t0 + 700_000_000) != nil)
        #expect(readiness.ringSeen(healthy, nowNs: Self.nowNs, monotonicNs: t0 + 800_000_000) != nil)
        #expect(readiness.ringWait(nowNs: Self.nowNs, monotonicNs: t0 + 1_500_000_000) != nil, "restarted at +0.8 s")
        #expect(readiness.ringWait(nowNs: Self.nowNs, monotonicNs: t0 + 1_800_000_000) == nil)
        // Latched: a later problem in the ring does not take readiness back.
        #expect(readiness.ringSeen(stale, nowNs: Self.nowNs, monotonicNs: t0 + 2_000_000_000) == nil)
    }

    @Test func withoutTheRingHealthCheckOnlyThisInstanceCounts() {
        var settings = Self.settings
        settings.checkAllInstances = false
        settings.minReadyNs = 0
        let readiness = Readiness()
        readiness.requireRing(settings)
        #expect(readiness.ringSeen([Self.instance("me", secondsAgo: 61), Self.instance("other")], nowNs: Self.nowNs)
                == "instance 10.0.0.2:9095 past heartbeat timeout")
        #expect(readiness.ringSeen([Self.instance("me"), Self.instance("other", secondsAgo: 600, state: 3)], nowNs: Self.nowNs) == nil)
    }

    /// A reply this writer cannot read as a ring (say, an encrypted one) leaves only the
    /// publication to wait for, as before the writer read the ring.
    @Test func anUnreadableRingCountsThePublicationAlone() {
        let readiness = Readiness()
        readiness.requireRing(Self.settings)
        let t0: UInt64 = 5_000_000_000
        #expect(readiness.ringSeen(nil, nowNs: Self.nowNs, monotonicNs: t0) == "waiting for 1s after being ready")
        #expect(readiness.ringWait(nowNs: Self.nowNs, monotonicNs: t0 + 1_000_000_000) == nil)
    }

    @Test func withoutARingReadyIsServingAlone() {
        let readiness = Readiness()
        readiness.advance(to: .serving)
        #expect(readiness.isServing && readiness.ringWait == nil)
        readiness.ringSeen([Self.instance("other", secondsAgo: 600)])  // never required: ignored
        #expect(readiness.isServing)
    }
}
