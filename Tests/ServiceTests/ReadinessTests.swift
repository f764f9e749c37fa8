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
}
