import Testing
@testable import Membership

@Suite struct JoinMemberTests {
    @Test func formsDskitAccepts() {
        #expect(JoinMember("10.0.0.5:7946").map { [$0.host, String($0.port)] } == ["10.0.0.5", "7946"])
        #expect(JoinMember("dns+pyroscope-memberlist.ns.svc.cluster.local.:7946").map { [$0.host, String($0.port)] }
                == ["pyroscope-memberlist.ns.svc.cluster.local.", "7946"])
        #expect(JoinMember("gossip-ring").map { [$0.host, String($0.port)] } == ["gossip-ring", "7946"])
        #expect(JoinMember("[fd00::1]:8000").map { [$0.host, String($0.port)] } == ["fd00::1", "8000"])
        #expect(JoinMember("[fd00::1]").map { [$0.host, String($0.port)] } == ["fd00::1", "7946"])
    }

    @Test func refusesWhatItCannotUse() {
        for entry in ["", "dns+", "dnssrv+_memberlist._tcp.ring", "dnssrvnoa+_memberlist._tcp.ring", "host:0", "host:99999", "a:b:c"] {
            #expect(JoinMember(entry) == nil, "\(entry)")
        }
    }

    @Test func privateRanges() {
        func ip(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }
        #expect(InstanceAddress.isPrivate(ip(10, 1, 2, 3)))
        #expect(InstanceAddress.isPrivate(ip(172, 16, 0, 1)) && InstanceAddress.isPrivate(ip(172, 31, 255, 1)))
        #expect(!InstanceAddress.isPrivate(ip(172, 32, 0, 1)))
        #expect(InstanceAddress.isPrivate(ip(192, 168, 1, 1)) && !InstanceAddress.isPrivate(ip(192, 169, 1, 1)))
        #expect(InstanceAddress.isPrivate(ip(100, 64, 0, 1)) && !InstanceAddress.isPrivate(ip(100, 128, 0, 1)))
        #expect(!InstanceAddress.isPrivate(ip(8, 8, 8, 8)) && !InstanceAddress.isPrivate(ip(127, 0, 0, 1)))
    }
}

@Suite struct InstanceAddressTests {
    @Test func namedInterfacesFirstElsePrivateElseTheFallbackInterfaces() {
        #expect(InstanceAddress.ipv4(interfaces: ["no-such-interface0"]) == nil)
        #expect(InstanceAddress.ipv4(interfaces: ["lo"]) == nil, "loopback is never advertised")
        let all = InstanceAddress.interfaceAddresses()
        if let first = all.first {
            #expect(InstanceAddress.ipv4(interfaces: ["no-such-interface0", first.interface]) == InstanceAddress.text(first.ip))
        }
        let expected = all.first { InstanceAddress.isPrivate($0.ip) }
            ?? InstanceAddress.fallbackInterfaces.lazy.compactMap { name in all.first { $0.interface == name } }.first
        #expect(InstanceAddress.ipv4() == expected.map { InstanceAddress.text($0.ip) })
    }
}
