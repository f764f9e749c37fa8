import Membership
import Runtime
import Synchronization

/// The ring entry that makes distributors send Pushes here (ingest-and-ops.md §3.7).
extension SegmentWriterServer {
    /// The registration the configuration asks for, or nil (logged) when it names no memberlist
    /// member or no address can be advertised. `grpcPort` is the port the server listens on.
    func makeRingRegistration(grpcPort: UInt16) -> RingRegistration? {
        let ring = config.ring
        guard !config.memberlist.join.isEmpty else {
            log.info("no ring membership: -memberlist.join names no member, so distributors cannot find this writer")
            return nil
        }
        guard let ip = ring.instanceAddr.isEmpty ? InstanceAddress.ipv4(interfaces: ring.interfaceNames) : ring.instanceAddr else {
            log.error("no ring membership: no IPv4 address to advertise; set -segment-writer.lifecycler.addr",
                      ["interfaces": ring.interfaceNames.joined(separator: ",")])
            return nil
        }
        let port = ring.instancePort > 0 ? UInt16(ring.instancePort) : grpcPort
        let now = RingRegistration.unixSeconds()
        var generator = SystemRandomNumberGenerator()
        let instance = InstanceDesc(
            id: ring.instanceID.isEmpty ? Self.hostname() : ring.instanceID,
            addr: EndpointAddress.hostPort(ip, port: Int(port)), timestamp: now, state: .active,
            tokens: RingTokens.random(ring.numTokens, using: &generator), zone: ring.availabilityZone,
            registeredTimestamp: now)
        let settings = RingRegistration.Settings(
            instance: instance, key: ring.prefix + "segment-writer-ring", heartbeatPeriodNs: UInt64(ring.heartbeatPeriodNs),
            members: config.memberlist.join.compactMap(JoinMember.init), clusterLabel: config.memberlist.clusterLabel,
            unregisterOnShutdown: ring.unregisterOnShutdown)
        let log = self.log, readiness = self.readiness
        readiness.requireRing(RingReadiness.Settings(
            instanceID: instance.id, checkAllInstances: ring.readinessCheckRingHealth,
            heartbeatTimeoutNs: ring.heartbeatTimeoutNs, minReadyNs: ring.minReadyDurationNs))
        let heartbeats = metrics.ringHeartbeats(), tokensOwned = metrics.ringTokensOwned()
        metrics.ringTokensToOwn().set(to: Double(ring.numTokens))
        log.info("ring membership", ["id": instance.id, "addr": instance.addr, "key": settings.key,
                                     "members": config.memberlist.join.joined(separator: ",")])
        // A heartbeat no member took is logged when failures start, then about once a minute
        // (with the last member's error); a member that fails while another takes the entry only
        // at debug level.
        let failedHeartbeats = Atomic<Int>(0)
        let lastFailure = Mutex("")
        // What the ring check last said, logged when it changes (dskit logs it at every probe).
        let lastRingProblem = Mutex<String?>(nil)
        let quietHeartbeats = max(1, Int(60_000_000_000 / ring.heartbeatPeriodNs))
        return RingRegistration(settings: settings) { event in
            switch event {
            case .published(let member, let state, let first):
                let failed = state == .active ? failedHeartbeats.exchange(0, ordering: .relaxed) : 0
                if state == .active {
                    heartbeats.increment()
                    tokensOwned.set(to: Double(instance.tokens.count))
                } else if state == .left {
                    tokensOwned.set(to: 0)
                }
                if first || state != .active || failed > 0 {
                    log.info("ring entry published", ["member": member, "state": "\(state)",
                                                       "failed_heartbeats_before": String(failed)])
                }
            case .ringSeen(let member, let instances):
                let problem = readiness.ringSeen(instances)
                let changed = lastRingProblem.withLock { last in
                    defer { last = problem }
                    return last != problem
                }
                if changed, let problem, !problem.hasPrefix("waiting for") {
                    log.warn("this instance cannot become ready until a problem in the ring is resolved",
                             ["member": member, "instances": String(instances.count), "err": problem])
                }
            case .ringUnreadable(let member, let error):
                readiness.ringSeen(nil)
                let changed = lastRingProblem.withLock { last in
                    defer { last = error }
                    return last != error
                }
                if changed {
                    log.warn("ring not readable from the member's reply: readiness checks only that the entry was published",
                             ["member": member, "err": error])
                }
            case .memberFailed(let member, let error):
                lastFailure.withLock { $0 = "\(member): \(error)" }
                log.debug("memberlist member unreachable", ["member": member, "err": error])
            case .noMemberReached(let state):
                let failed = state == .active ? failedHeartbeats.add(1, ordering: .relaxed).newValue : 1
                if (failed - 1) % quietHeartbeats == 0 {
                    log.warn("ring entry not published: no memberlist member reached; retried at the next heartbeat",
                             ["state": "\(state)", "failed_heartbeats": String(failed), "err": lastFailure.withLock { $0 }])
                }
            }
        }
    }
}
