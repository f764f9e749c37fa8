import BinaryCoding
import Testing
@testable import SegmentObject

/// segment-object.md §6; checks #8, #11 (label shape).
@Suite struct StringTableAndLabelsTests {
    @Test func metadataTestVectorInternsFirstCome() {
        var table = StringTable()
        table.put("ingester-a")
        var firstLabels: [Int32]?
        for tenant: ByteString in ["tenant-a", "tenant-b"] {
            for service: ByteString in ["service_a", "service_b"] {
                table.put(tenant)
                table.put(service)
                let sets = DatasetLabels.serviceSets(service: service, profileTypes: ["cpu", "memory"], unsymbolized: false)
                let labels = DatasetLabels.encode(sets, into: &table)
                if firstLabels == nil { firstLabels = labels }
            }
        }
        #expect(table.strings == ["", "ingester-a", "tenant-a", "service_a", "service_name", "__profile_type__",
                                  "cpu", "memory", "service_b", "tenant-b"])
        #expect(firstLabels == [2, 4, 3, 5, 6, 2, 4, 3, 5, 7])
    }

    @Test func emptyStringIsIndexZero() {
        var table = StringTable()
        #expect(table.put("") == 0)
        #expect(table.put("x") == 1)
        #expect(table.put("x") == 1)
        #expect(table.index(of: "y") == nil)
    }

    @Test func serviceSetsAreSortedByTypeWithUnsymbolizedLast() {
        let sets = DatasetLabels.serviceSets(service: "svc", profileTypes: ["b", "a"], unsymbolized: true)
        #expect(sets == [
            [LabelPair("service_name", "svc"), LabelPair("__profile_type__", "a")],
            [LabelPair("service_name", "svc"), LabelPair("__profile_type__", "b")],
            [LabelPair("service_name", "svc"), LabelPair("__unsymbolized__", "true")],
        ])
    }

    @Test func labelsDecodeBackToTheirSets() throws {
        var table = StringTable()
        let sets = DatasetLabels.serviceSets(service: "svc", profileTypes: ["cpu"], unsymbolized: true) + [[]]
        let labels = DatasetLabels.encode(sets, into: &table)
        #expect(try DatasetLabels.decode(labels, strings: table.strings) == sets)
    }

    @Test func overrunningNegativeOrOutOfRangeLabelsAreMalformed() {
        let strings: [ByteString] = ["", "a", "b"]
        for labels: [Int32] in [[2, 1, 2, 1], [1, 1], [-1], [1, 1, 3], [1, -1, 1], [Int32.max]] {
            #expect(throws: DecodeError.self, "\(labels)") { try DatasetLabels.decode(labels, strings: strings) }
        }
    }
}
