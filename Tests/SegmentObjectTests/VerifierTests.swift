import BinaryCoding
import Testing
@testable import SegmentObject
import TestSupport
import TSDBIndex

func verifyObject(_ bytes: [UInt8], meta: BlockMeta? = nil) throws -> VerifiedSegmentObject {
    try bytes.withUnsafeBytes { try SegmentObjectVerifier.verify($0, meta: meta) }
}

/// Deep verification: checks #3 (TSDB bounds, service_name), #9–#12 on golden and assembled objects.
@Suite struct VerifierTests {
    @Test func everyGoldenSegmentVerifiesDeeply() throws {
        for g in try GoldenObject.all() {
            let v = try verifyObject(g.bytes, meta: g.meta)
            for d in v.datasets {
                #expect(d.index.from / 1_000_000 == d.layout.minTimeMs && d.index.through / 1_000_000 == d.layout.maxTimeMs)
                let names = Set(d.index.series.flatMap { $0.labels.filter { $0.name == "service_name" }.map(\.value) })
                #expect(names == [d.layout.name], "\(g.id): TSDB service_name == dataset name")
                #expect((d.profiles?.rowCount ?? 0) > 0)
                #expect(d.profiles?.schemaColumnCount == 18)
                #expect(d.symbols?.partitions.isEmpty == false)
            }
        }
    }

    @Test func constructedExampleVerifiesDeeply() throws {
        let (bytes, _) = try ConstructedExampleTests.assemble()
        let v = try verifyObject(bytes)
        #expect(v.datasets.count == 2)
        #expect(v.datasets[1].index.series.count == 4)
    }

    /// Several tenants and services, given out of order: sorted by (tenant, service) bytes,
    /// one tenant index after each tenant's last dataset, global positions in its chunks.
    @Test func multiTenantObjectIsLaidOutInKeyOrder() throws {
        let golden = try GoldenSections.all()
        func source(_ i: Int, _ tenant: ByteString, _ service: ByteString) throws -> VerbatimDataset {
            var d = try VerbatimDataset(golden[i])
            d.tenant = tenant
            d.service = service
            // Keep the TSDB service_name check meaningful: only the real name may be used, or "".
            return d
        }
        let sources = [
            try source(0, "tenant-b", ByteString(golden[0].service)),
            try source(1, "tenant-a", ByteString(golden[1].service)),
            try source(2, "tenant-a", ByteString(golden[2].service)),
            try source(3, "tenant-b", ""),
        ]
        var w = ByteWriter()
        let id = ULID(timeMs: 1_721_060_035_000, entropy: Array(repeating: 7, count: 10))
        let meta = SegmentAssembler.assemble(sources, id: id, shard: 9, hostname: "", into: &w)
        #expect(meta.createdBy == 0)
        let v = try verifyObject(w.bytes)
        let layout = v.layout
        let keys = layout.datasets.map { "\($0.tenant)/\($0.format == .services ? $0.name.description : "#index")" }
        let a = [golden[1].service, golden[2].service].sorted()
        #expect(keys == ["tenant-a/\(a[0])", "tenant-a/\(a[1])", "tenant-a/#index", "tenant-b/", "tenant-b/\(golden[0].service)", "tenant-b/#index"])
        #expect(meta.datasets[3].name == 0, "empty service name is string 0")
        let positions = v.datasets.map { Set($0.layout.format == .tenantIndex ? $0.index.series.map(\.chunks[0].seriesIndex) : []) }
        #expect(positions[2] == [0, 1] && positions[5] == [3, 4])
        #expect(meta.stringTable[0] == "" && meta.stringTable[1] == "tenant-a")
        #expect(layout.trailer?.lowerBound == Int(meta.metadataOffset))
    }

    @Test func tenantWithoutSeriesGetsNoIndex() throws {
        let golden = try GoldenSections.all()
        var d = try VerbatimDataset(golden[0])
        d.indexSeries = []
        var w = ByteWriter()
        let meta = SegmentAssembler.assemble([d], id: ULID(timeMs: 1, entropy: Array(repeating: 0, count: 10)), shard: 0, hostname: "h", into: &w)
        #expect(meta.datasets.count == 1)
        #expect(!meta.stringTable.contains("__tenant_dataset__"))
        _ = try openObject(w.bytes)
    }

    @Test func zeroDatasetSegmentIsTrailerOnly() throws {
        var w = ByteWriter()
        let meta = SegmentAssembler.assemble([VerbatimDataset](), id: ULID(timeMs: 1, entropy: Array(repeating: 0, count: 10)), shard: 2, hostname: "h", into: &w)
        #expect(meta.metadataOffset == 0 && meta.minTimeMs == .max && meta.maxTimeMs == 0)
        #expect(meta.size == UInt64(w.count))
        _ = try verifyObject(w.bytes)
    }

    @Test func contentDisagreementsAreReportedWithDatasetAndSection() throws {
        let (bytes, meta) = try ConstructedExampleTests.assemble()
        var wrongTimes = meta
        wrongTimes.datasets[0].minTimeMs -= 1
        wrongTimes.minTimeMs -= 1
        wrongTimes.datasets[1].minTimeMs -= 1
        let e1 = #expect(throws: DecodeError.self) { try verifyObject(bytes, meta: wrongTimes) }
        #expect(e1?.context.prefix(2) == ["dataset 0", "index.tsdb"])
        #expect(e1?.offset == 4549)
        var wrongLabels = meta
        wrongLabels.datasets[0].labels = Array(wrongLabels.datasets[0].labels.dropLast(5))
        let e2 = #expect(throws: DecodeError.self) { try verifyObject(bytes, meta: wrongLabels) }
        #expect(e2?.context.first == "dataset 0")
    }

    @Test func damagedGoldenSectionIsNamedWithAnAbsoluteOffsetInsideIt() throws {
        let g = try GoldenObject.named("01J2VJR0R3NQS23SDADNA6XHCM")
        let layout = try openObject(g.bytes, meta: g.meta)
        for ds in layout.datasets {
            for section in ds.sections {
                var bytes = g.bytes
                // index.tsdb and symbols.symdb are CRC-covered throughout; parquet pages carry no
                // checksum, so damage its footer length instead (moves the Thrift footer start).
                let at = section.kind == .profiles ? section.range.upperBound - 8 : section.range.lowerBound + section.range.count / 2
                bytes[at] ^= 0x01
                let error = #expect(throws: DecodeError.self) { try verifyObject(bytes, meta: g.meta) }
                guard let e = error else { continue }
                #expect(e.context.first == "dataset \(ds.position)", "\(e)")
                #expect(e.context.dropFirst().first == section.kind.rawValue, "\(e)")
                #expect(section.range.contains(e.offset), "\(e)")
            }
        }
    }

    /// #11: `__unsymbolized__=true` only when some location's mapping lacks function info; every
    /// golden mapping has functions, so claiming it is caught.
    @Test func unsymbolizedLabelMustMatchTheSymbols() throws {
        let golden = try GoldenSections.all()
        var d = try VerbatimDataset(golden[0])
        d.hasUnsymbolizedProfiles = true
        var w = ByteWriter()
        _ = SegmentAssembler.assemble([d], id: ULID(timeMs: 1, entropy: Array(repeating: 0, count: 10)), shard: 0, hostname: "h", into: &w)
        let e = #expect(throws: DecodeError.self) { try verifyObject(w.bytes) }
        #expect(e?.context.prefix(2) == ["dataset 0", "symbols.symdb"])
    }
}
