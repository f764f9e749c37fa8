import BinaryCoding
import Foundation
@testable import ProfilesParquet
import Testing
import TestSupport

/// The Python test (Tests/Python/test_profiles_parquet.py) reads sections this writer produces
/// with pyarrow. They are committed under Tests/Python/fixtures with the expected values as JSON;
/// this test keeps them current: it fails when the writer's output drifts from the committed files.
/// `UPDATE_PARQUET_FIXTURES=1` rewrites them; `PARQUET_SAMPLES_DIR=dir` writes them, plus a
/// multi-page section too large to commit, to `dir` for the Python test to read.
@Suite struct PythonFixtureTests {
    static let directory = TestData.repositoryRoot.appendingPathComponent("Tests/Python/fixtures")

    static func fixtures() throws -> [(name: String, columns: ProfileColumns)] {
        let golden = try GoldenSections.all().first { $0.name == "01J2VJR0R3NQS23SDADNA6XHCM#0" }!
        return [
            ("golden-01J2VJR0R3NQS23SDADNA6XHCM-0", try readTable(golden.profiles).columns),
            ("synthetic", SampleTables.synthetic()),
        ]
    }

    @Test func samplesForPythonWhenRequested() throws {
        guard let dir = ProcessInfo.processInfo.environment["PARQUET_SAMPLES_DIR"] else { return }
        let columns = SampleTables.large(rows: 100, samplesPerRow: 100)
        let section = writeSection(columns)
        // What makes it worth reading: the sample columns span several pages.
        #expect(try ParsedFile(section).pages(ProfileColumn.value.path).count > 2)
        let url = URL(fileURLWithPath: dir)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try Data(section).write(to: url.appendingPathComponent("multipage.parquet"))
        try Data(Self.expectedJSON(columns).utf8).write(to: url.appendingPathComponent("multipage.json"))
    }

    @Test func committedFixturesMatchTheWriter() throws {
        let env = ProcessInfo.processInfo.environment
        var total = 0
        for (name, columns) in try Self.fixtures() {
            let parquet = Data(writeSection(columns))
            let json = Data(Self.expectedJSON(columns).utf8)
            total += parquet.count + json.count
            if let dir = env["PARQUET_SAMPLES_DIR"] {
                let url = URL(fileURLWithPath: dir)
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                try parquet.write(to: url.appendingPathComponent("\(name).parquet"))
                try json.write(to: url.appendingPathComponent("\(name).json"))
            }
            let parquetURL = Self.directory.appendingPathComponent("\(name).parquet")
            let jsonURL = Self.directory.appendingPathComponent("\(name).json")
            if env["UPDATE_PARQUET_FIXTURES"] == "1" {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                try parquet.write(to: parquetURL)
                try json.write(to: jsonURL)
            }
            #expect(try Data(contentsOf: parquetURL) == parquet, "\(name).parquet is stale")
            #expect(try Data(contentsOf: jsonURL) == json, "\(name).json is stale")
        }
        #expect(total < 100_000)
    }

    /// One JSON object per row with the values pyarrow must read (bytes as hex, nulls as null).
    static func expectedJSON(_ c: ProfileColumns) -> String {
        func hex16(_ v: UInt128) -> String { "\"" + hexString(Statistics.be128(v)) + "\"" }
        func quotedHex(_ s: ByteString) -> String { "\"" + hexString(s.bytes) + "\"" }
        func opt(_ v: Int64) -> String { v == 0 ? "null" : "\(v)" }
        var rows: [String] = []
        for r in 0 ..< c.rowCount {
            var samples: [String] = []
            for i in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                let span = c.rowHasSpanIDs[r] ? "\(c.sampleSpanIDs[i])" : "null"
                let trace = c.sampleTraceIDs[i] == 0 ? "null" : hex16(c.sampleTraceIDs[i])
                samples.append("{\"StacktraceID\":\(c.sampleStacktraceIDs[i]),\"Value\":\(c.sampleValues[i]),\"SpanID\":\(span),\"TraceID\":\(trace)}")
            }
            let comments = c.comments[c.commentOffsets[r] ..< c.commentOffsets[r + 1]].map { "\($0)" }
            let annotations = (c.annotationOffsets[r] ..< c.annotationOffsets[r + 1]).map {
                "{\"Key\":\(quotedHex(c.annotationKeys[$0])),\"Value\":\(quotedHex(c.annotationValues[$0]))}"
            }
            rows.append("""
            {"ID":\(hex16(c.ids[r])),"SeriesIndex":\(c.seriesIndex[r]),"StacktracePartition":\(c.stacktracePartition[r]),\
            "TotalValue":\(UInt64(bitPattern: c.totalValue[r])),"Samples":[\(samples.joined(separator: ","))],\
            "DropFrames":\(opt(c.dropFrames[r])),"KeepFrames":\(opt(c.keepFrames[r])),"TimeNanos":\(c.timeNanos[r]),\
            "DurationNanos":\(opt(c.durationNanos[r])),"Period":\(opt(c.period[r])),"Comments":[\(comments.joined(separator: ","))],\
            "DefaultSampleType":\(opt(c.defaultSampleType[r])),"Annotations":[\(annotations.joined(separator: ","))]}
            """)
        }
        return "[\n" + rows.joined(separator: ",\n") + "\n]\n"
    }
}
