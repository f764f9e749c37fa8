import Metastore
import Runtime
import Testing

@Suite struct MetastoreAddressTests {
    @Test func staticListWithAndWithoutRaftIDs() throws {
        let nodes = try MetastoreAddresses.parse("metastore-0:9095/metastore-0:9099, 10.0.0.2:9095 ,,dns:///metastore-2.ns.svc:9095")
        #expect(nodes == [
            MetastoreNode(id: "metastore-0", host: "metastore-0", port: 9095),
            MetastoreNode(id: "10.0.0.2", host: "10.0.0.2", port: 9095),
            MetastoreNode(id: "metastore-2.ns.svc", host: "metastore-2.ns.svc", port: 9095),
        ])
        #expect(nodes[0].address == "metastore-0:9095")
    }

    @Test func explicitIDWithoutPort() throws {
        #expect(try MetastoreAddresses.parse("127.0.0.1:1234/node-a") == [MetastoreNode(id: "node-a", host: "127.0.0.1", port: 1234)])
    }

    @Test func emptyListHasNoNodes() throws {
        #expect(try MetastoreAddresses.parse("").isEmpty)
        #expect(try MetastoreAddresses.parse(" , ").isEmpty)
    }

    @Test(arguments: ["metastore", "metastore:", "metastore:0", "metastore:70000", ":9095", "[::1]:9095", "a:9095/"])
    func malformedEntriesAreRejected(_ entry: String) {
        #expect(throws: MetastoreAddressError.malformed(entry)) { try MetastoreAddresses.parse(entry) }
    }

    @Test(arguments: ["dnssrvnoa+_grpc._tcp.metastore", "kubernetes:///metastore:9095"])
    func discoverySchemesAreUnsupported(_ entry: String) {
        #expect(throws: MetastoreAddressError.unsupportedScheme(entry)) { try MetastoreAddresses.parse(entry) }
    }

    @Test func stripPortOnlyStripsANumericPort() {
        #expect(MetastoreAddresses.stripPort("node-1:9099") == "node-1")
        #expect(MetastoreAddresses.stripPort("node-1") == "node-1")
        #expect(MetastoreAddresses.stripPort("node:x") == "node:x")
    }

    @Test func resolutionKeepsEveryAddressAndNamesThatDoNotResolve() {
        let resolver: EndpointResolver = { host, port throws(ResolutionError) in
            guard host == "metastore.test" else { throw ResolutionError(host: host, reason: "Name or service not known") }
            return [EndpointAddress.literal("10.0.0.1", port: port)!, EndpointAddress.literal("fd00::2", port: port)!]
        }
        let (endpoints, failures) = MetastoreAddresses.resolve([
            MetastoreNode(id: "a", host: "metastore.test", port: 9095), MetastoreNode(id: "b", host: "gone.test", port: 9095),
        ], resolver: resolver)
        #expect(endpoints.map { $0.addresses.map(\.description) } == [["10.0.0.1:9095", "[fd00::2]:9095"], []])
        #expect(failures == [ResolutionError(host: "gone.test", reason: "Name or service not known")])
    }

    @Test func literalsNeedNoLookup() {
        #expect(EndpointAddress.literal("127.0.0.1", port: 1)?.description == "127.0.0.1:1")
        #expect(EndpointAddress.literal("::1", port: 2)?.description == "[::1]:2")
        #expect(EndpointAddress.literal("256.0.0.1", port: 1) == nil)
        #expect(EndpointAddress.literal("localhost", port: 1) == nil)
    }
}
