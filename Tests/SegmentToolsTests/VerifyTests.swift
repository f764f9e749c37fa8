import SegmentObject
import SegmentTools
import Testing
import TestSupport

@Suite struct VerifyTests {
    @Test func everyGoldenIsValidWithExternalMetadata() throws {
        for input in try goldenInputs() {
            let r = ObjectVerification.verify(input)
            #expect(r.isValid, "\(r.line)")
            #expect(r.line.hasPrefix("OK   "))
        }
    }

    @Test func assembledObjectIsValidFromItsTrailer() throws {
        let r = ObjectVerification.verify(ObjectInput(path: "assembled", bytes: try accumulatedObject(["cpu-exemplars.pb.gz", "heap_delta"])))
        #expect(r.isValid, "\(r.line)")
        #expect(r.datasetCount >= 2)
    }

    /// A flipped byte in the index and one in the symbols: the failure names dataset 0, the
    /// section, and an absolute offset inside that section.
    @Test(arguments: ["index.tsdb", "symbols.symdb"])
    func corruptedCopyNamesDatasetSectionAndOffset(_ sectionName: String) throws {
        var input = try #require(try goldenInputs().first)
        let layout = try input.open()
        let section = try #require(layout.datasets[0].sections.first { $0.kind.rawValue == sectionName })
        input.bytes[section.range.lowerBound + section.range.count / 5] ^= 0xFF
        let r = ObjectVerification.verify(input)
        let failure = try #require(r.failure)
        #expect(failure.dataset == 0)
        #expect(failure.section == sectionName)
        let offset = try #require(failure.offset)
        #expect(section.range.contains(offset), "\(offset) not in \(section.range)")
        #expect(r.line.contains("dataset 0 / \(sectionName)") && r.line.contains("at offset \(offset)"))
    }
}
