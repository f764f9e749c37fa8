import BinaryCoding
import Testing
@testable import SegmentObject

/// Check #18: malformed containers are rejected with a `DecodeError`, never a crash.
@Suite struct MalformedObjectTests {
    @Test func miniObjectIsValid() throws {
        let layout = try openObject(MiniSections.object())
        #expect(layout.datasets.map(\.format) == [.services, .tenantIndex])
        #expect(layout.datasets[1].labelSets == DatasetLabels.tenantIndexSets)
        #expect(layout.datasets[0].profileTypes == ["cpu"])
        #expect(layout.createdBy == "host")
    }

    static let edits: [(String, @Sendable (inout BlockMeta) -> Void)] = [
        ("TOC beyond metadata_offset", { $0.datasets[1].size += 1 }),
        ("dataset start not contiguous", { $0.datasets[1].tableOfContents[0] += 1 }),
        ("dataset size past data end", { $0.datasets[0].size = 1 << 40 }),
        ("TOC entry outside dataset", { $0.datasets[0].tableOfContents[2] = $0.datasets[0].size + 1 }),
        ("TOC entries descending", { $0.datasets[0].tableOfContents.swapAt(1, 2) }),
        ("too few TOC entries", { $0.datasets[0].tableOfContents.removeLast() }),
        ("too many TOC entries for format 1", { $0.datasets[1].tableOfContents.append(0) }),
        ("unknown format", { $0.datasets[1].format = 2 }),
        ("label set overruns the array", { $0.datasets[0].labels.removeLast() }),
        ("label string index out of range", { $0.datasets[0].labels[1] = 99 }),
        ("dataset tenant out of range", { $0.datasets[0].tenant = -1 }),
        ("dataset name out of range", { $0.datasets[0].name = 1000 }),
        ("created_by out of range", { $0.createdBy = 50 }),
        ("string_table[0] not empty", { $0.stringTable[0] = "x" }),
        ("metadata_offset not the trailer start", { $0.metadataOffset -= 1 }),
        ("datasets end before the trailer", { $0.datasets.removeLast() }),
        ("section framing off by one", { $0.datasets[0].tableOfContents[1] += 1 }),
    ]

    @Test(arguments: edits.indices)
    func editedMetadataIsRejected(_ i: Int) {
        let (name, edit) = Self.edits[i]
        let bytes = MiniSections.object(edit: edit)
        let e = #expect(throws: DecodeError.self, "\(name)") { try openObject(bytes) }
        #expect(e != nil)
    }

    @Test func damagedFramingIsRejectedWithTheSectionNamed() throws {
        let bytes = MiniSections.object()
        let layout = try openObject(bytes)
        for ds in layout.datasets {
            for section in ds.sections {
                for at in [section.range.lowerBound, section.range.upperBound - 1] {
                    var damaged = bytes
                    damaged[at] ^= 0x40
                    // The trailer still matches, so the error must come from the section.
                    let e = #expect(throws: DecodeError.self) { try openObject(damaged) }
                    #expect(e?.context == ["dataset \(ds.position)", section.kind.rawValue], "\(section.kind) at \(at)")
                    #expect(e.map { section.range.contains($0.offset) } == true, "absolute offset inside the section")
                }
            }
        }
    }

    @Test func everyTruncationOfASmallObjectIsRejected() {
        let bytes = MiniSections.object()
        for n in 0 ..< bytes.count {
            #expect(throws: DecodeError.self) { try openObject(Array(bytes.prefix(n))) }
        }
    }

    /// Exhaustive, like swift-collections' `withEvery`: every proper prefix of the §9.2 object.
    @Test func everyTruncationOfTheConstructedExampleIsRejected() throws {
        let (bytes, _) = try ConstructedExampleTests.assemble()
        var accepted: [Int] = []
        bytes.withUnsafeBytes { raw in
            for n in 0 ..< raw.count {
                if (try? SegmentObjectReader.open(UnsafeRawBufferPointer(rebasing: raw[..<n]))) != nil { accepted.append(n) }
            }
        }
        #expect(accepted.isEmpty)
    }

    @Test func externalMetadataMustFitTheObject() throws {
        let bytes = MiniSections.object()
        var meta = try readTrailer(bytes)
        _ = try openObject(bytes, meta: meta)
        meta.size += 1
        #expect(throws: DecodeError.self) { try openObject(bytes, meta: meta) }
        meta.size = 0
        meta.metadataOffset = UInt64(bytes.count)
        #expect(throws: DecodeError.self) { try openObject(bytes, meta: meta) }
    }
}
