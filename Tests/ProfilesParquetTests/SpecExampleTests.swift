import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

/// profiles-parquet.md §6 (golden survey) and §9 (worked example).
@Suite struct SpecExampleTests {
    static let survey: [String: (bytes: Int, rows: Int)] = [
        "01J2VJQPYDC160REPAD2VN88XN#0": (3794, 1), "01J2VJQRGBK8YFWVV8K1MPRRWM#0": (3949, 2),
        "01J2VJQRTMSCY4VDYBP5N4N5JK#0": (3834, 1), "01J2VJQTJ3PGF7KB39ARR1BX3Y#0": (4808, 4),
        "01J2VJQV544TF571FDSK2H692P#0": (4201, 2), "01J2VJQX8DYHSEBK7BAQSCJBMG#0": (4543, 2),
        "01J2VJQYQVZTPZMMJKE7F2XC47#0": (5086, 4), "01J2VJQZPARDJQ779S1JMV0XQA#0": (3825, 1),
        "01J2VJR0R3NQS23SDADNA6XHCM#0": (4547, 2), "01J2VJR0R3NQS23SDADNA6XHCM#1": (5442, 5),
        "01J2VJR31PT3X4NDJC4Q2BHWQ1#0": (4549, 4),
    ]

    /// §6 table and invariants; §10 checks 4, 6 and 12 as far as the profiles section shows them.
    @Test func goldenSurveyHolds() throws {
        let sections = try GoldenSections.all()
        #expect(sections.count == Self.survey.count)
        for ds in sections {
            let want = try #require(Self.survey[ds.name])
            #expect(ds.profiles.count == want.bytes, "\(ds.name)")
            #expect(Array(ds.profiles.prefix(4)) == Array("PAR1".utf8) && Array(ds.profiles.suffix(4)) == Array("PAR1".utf8))
            let c = try readTable(ds.profiles).columns
            #expect(c.rowCount == want.rows, "\(ds.name)")
            // series = rows in every golden; SeriesIndex is exactly 0..<series, rows ordered.
            #expect(c.seriesIndex == (0 ..< UInt32(want.rows)).map { $0 }, "\(ds.name)")
            #expect(c.isOrdered)
            let file = try ParsedFile(ds.profiles)
            #expect(file.metadata.rowGroups.count == 1)
            for r in 0 ..< c.rowCount {
                let samples = c.sampleOffsets[r] ..< c.sampleOffsets[r + 1]
                #expect(!samples.isEmpty)
                #expect(samples.allSatisfy { c.sampleValues[$0] > 0 })
                #expect(samples.reduce(Int64(0)) { $0 &+ c.sampleValues[$1] } == c.totalValue[r])
                #expect(!c.rowHasSpanIDs[r])
                #expect(c.period[r] == 0 && c.dropFrames[r] == 0 && c.keepFrames[r] == 0)
                #expect(c.commentOffsets[r] == c.commentOffsets[r + 1])
                #expect(c.stacktracePartition[r] == XXH64.hash(Array(ds.service.utf8)))
                #expect(c.timeNanos[r] / 1_000_000 >= ds.minTimeMs && c.timeNanos[r] / 1_000_000 <= ds.maxTimeMs)
            }
            // §6: one page per column, DATA_PAGE_V2 with CRC, an empty SpanID dictionary page.
            for leaf in file.leaves {
                let pages = try file.pages(leaf.path)
                let data = pages.filter { $0.header.type == PageType.dataPageV2.rawValue }
                #expect(data.count == 1 && data.allSatisfy { $0.header.crc != nil })
                #expect(pages.count == (leaf.path.last == "SpanID" ? 2 : 1))
            }
        }
    }

    @Test func workedExampleRowZero() throws {
        let ds = try #require(try GoldenSections.all().first { $0.name == "01J2VJR0R3NQS23SDADNA6XHCM#0" })
        let file = try ParsedFile(ds.profiles)
        #expect(file.footerStart == 2264 && ds.profiles.count - 8 - file.footerStart == 2275)
        let c = try readTable(ds.profiles).columns
        #expect(c.ids[0] == 0x522e922a_89e3_45bc_82b8_39b4c272da2a && c.ids[1] == c.ids[0])
        #expect(c.seriesIndex[0] == 0)
        #expect(c.stacktracePartition[0] == 13_413_428_935_505_083_408)
        #expect(c.totalValue[0] == 74337)
        #expect(c.sampleOffsets[1] == 56)
        let pairs = (0 ..< 56).map { (c.sampleStacktraceIDs[$0], c.sampleValues[$0]) }
        let head: [(UInt64, Int64)] = [(8, 372), (33, 8), (51, 4), (52, 128), (56, 32), (57, 910), (58, 1), (58, 1), (60, 32)]
        #expect(pairs.prefix(9).elementsEqual(head, by: ==))
        #expect(pairs.suffix(2).elementsEqual([(246, 64), (252, 80)], by: ==))
        #expect(c.timeNanos[0] == 1_721_060_033_248_914_182)
        #expect(c.durationNanos[0] == 15_001_112_528)
        #expect(c.period[0] == 0 && c.dropFrames[0] == 0 && c.keepFrames[0] == 0)
        #expect(c.defaultSampleType[0] == 5)

        // Level streams of §9.
        let stack = try #require(try file.column(.stacktraceID))
        #expect(stack.repetitionLevels.count == 112)
        #expect(Array(stack.repetitionLevels.prefix(3)) == [0, 1, 1] && Array(stack.definitionLevels.prefix(3)) == [1, 1, 1])
        #expect(stack.repetitionLevels[56] == 0)
        let str = try #require(try file.column(.labelStr))
        #expect(str.definitionLevels.allSatisfy { $0 == 1 } && str.ints.isEmpty)
        let period = try #require(try file.column(.period))
        #expect(period.definitionLevels == [0, 0])
        let comments = try #require(try file.column(.comments))
        #expect(comments.repetitionLevels == [0, 0] && comments.definitionLevels == [0, 0])
    }

    /// §9: the SeriesIndex chunk's bytes at object offset 64, and what the current writer emits.
    @Test func workedExampleSeriesIndexBytes() throws {
        let ds = try #require(try GoldenSections.all().first { $0.name == "01J2VJR0R3NQS23SDADNA6XHCM#0" })
        let goldenHeader: [UInt8] = [0x15, 0x06, 0x15, 0x24, 0x15, 0x24, 0x15, 0xfc, 0xff, 0xca, 0x9e, 0x08, 0x4c,
                                     0x15, 0x04, 0x15, 0x00, 0x15, 0x04, 0x15, 0x0a, 0x15, 0x00, 0x15, 0x00, 0x12, 0x00, 0x00]
        let body: [UInt8] = [0x80, 0x01, 0x04, 0x02, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        #expect(Array(ds.profiles[64 ..< 64 + goldenHeader.count + body.count]) == goldenHeader + body)

        let ours = writeSection(try readTable(ds.profiles).columns)
        let file = try ParsedFile(ours)
        let page = try #require(try file.pages(ProfileColumn.seriesIndex.path).first)
        let statistics: [UInt8] = [0x1c, 0x18, 0x04, 0x01, 0x00, 0x00, 0x00, 0x18, 0x04, 0x00, 0x00, 0x00, 0x00, 0x16, 0x00,
                                   0x28, 0x04, 0x01, 0x00, 0x00, 0x00, 0x18, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        #expect(Array(ours[page.headerStart ..< page.bodyEnd]) == goldenHeader.dropLast(2) + statistics + body)

        let span = try #require(try file.pages(ProfileColumn.spanID.path).first)
        #expect(Array(ours[span.headerStart ..< span.bodyEnd]) == [0x15, 0x04, 0x15, 0x00, 0x15, 0x00, 0x4c, 0x15, 0x00, 0x15, 0x00, 0x00, 0x00])
    }

    /// §10 check 5 test vector: the §9 label set in enforced and in plain name order.
    @Test func seriesFingerprintVector() {
        let rest: [(String, String)] = [
            ("__name__", "memory"), ("__period_type__", "space"), ("__period_unit__", "bytes"),
            ("__type__", "inuse_objects"), ("__unit__", "count"),
            ("app_kubernetes_io_instance", "pyroscope-dev"), ("app_kubernetes_io_name", "alloy"),
            ("apps_kubernetes_io_pod_index", "0"), ("container", "alloy"),
            ("controller_revision_hash", "pyroscope-dev-alloy-6795dc78db"), ("instance", "192.168.194.17:12345"),
            ("namespace", "pyroscope-test"), ("pod", "pyroscope-dev-alloy-0"), ("service_name", "pyroscope-test/alloy"),
            ("statefulset_kubernetes_io_pod_name", "pyroscope-dev-alloy-0"),
        ]
        let profileType = ("__profile_type__", "memory:inuse_objects:count:space:bytes")
        let serviceName = ("__service_name__", "pyroscope-test/alloy")
        func fingerprint(_ labels: [(String, String)]) -> UInt64 {
            var bytes: [UInt8] = []
            for (n, v) in labels { bytes += Array(n.utf8) + [0xff] + Array(v.utf8) + [0xff] }
            return XXH64.hash(bytes)
        }
        #expect(fingerprint([profileType, serviceName] + rest) == 9_407_695_162_538_685_562)
        #expect(fingerprint((rest + [profileType, serviceName]).sorted { $0.0 < $1.0 }) == 10_680_515_656_256_487_983)
    }
}
