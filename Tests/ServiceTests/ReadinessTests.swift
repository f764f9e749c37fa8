import Foundation
import SegmentWriterService
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

    /// Upstream's lifecycler readiness (§5.4): in a ring, `/ready` waits until a member took the
    /// entry, then `min_ready_duration`; the wait latches (later publications do not restart it).
    @Test func inARingReadyWaitsForThePublicationThenTheMinReadyDuration() throws {
        let readiness = Readiness()
        readiness.requireRingPublication()
        readiness.advance(to: .serving)
        #expect(!readiness.isServing)
        #expect(readiness.ringWait?.contains("owns no tokens") == true)
        #expect(readiness.admitsPushes && readiness.isHealthServing, "Pushes and health do not wait on the ring")
        let published = Date()
        readiness.ringPublished(minReadyNs: 1_000_000_000)
        let wait = try #require(readiness.ringWait)
        #expect(wait.hasPrefix("waiting 1s more"), "\(wait)")
        #expect(!readiness.isServing)
        Thread.sleep(forTimeInterval: 0.4)
        readiness.ringPublished(minReadyNs: 1_000_000_000)  // a heartbeat: no restart
        // Ready 1 s after the first publication (a restart would make it 1.4 s).
        Thread.sleep(until: published.addingTimeInterval(1.15))
        #expect(readiness.isServing)
        #expect(readiness.ringWait == nil)
    }

    @Test func withoutARingReadyIsServingAlone() {
        let readiness = Readiness()
        readiness.advance(to: .serving)
        #expect(readiness.isServing && readiness.ringWait == nil)
        readiness.ringPublished(minReadyNs: 60_000_000_000)  // never required: ignored
        #expect(readiness.isServing)
    }
}
