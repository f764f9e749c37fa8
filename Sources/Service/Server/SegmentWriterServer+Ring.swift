import Membership
import Runtime

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
        let log = self.log
        log.info("ring membership", ["id": instance.id, "addr": instance.addr, "key": settings.key,
                                     "members": config.memberlist.join.joined(separator: ",")])
        return RingRegistration(settings: settings) { event in
            switch event {
            case .published(let member, let state, let first):
                if first || state != .active {
                    log.info("ring entry published", ["member": member, "state": "\(state)"])
                }
            case .memberFailed(let member, let error):
                log.warn("memberlist member unreachable", ["member": member, "err": error])
            case .noMemberReached(let state):
                log.warn("ring entry not published: no memberlist member reached; retried at the next heartbeat",
                         ["state": "\(state)"])
            }
        }
    }
}
