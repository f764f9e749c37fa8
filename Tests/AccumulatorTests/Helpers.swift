import BinaryCoding
import Foundation
import Pprof
import ProfilesParquet
import SegmentObject
import SymbolDB
import TestSupport
import TSDBIndex
@testable import Accumulator

func corpusFile(_ name: String) throws -> [UInt8] {
    try TestData.bytes(TestData.pprofDirectory.appendingPathComponent(name))
}

/// Decodes a stored pprof (gzip or raw) into plain values, independently of the accumulator.
func decodeProfile(_ stored: [UInt8]) throws -> PprofProfile {
    let inflater = ProfileInflater(maxDecompressedBytes: 64 << 20)
    let decoder = PprofDecoder()
    return try stored.withUnsafeBytes { raw in
        try decoder.decode(try inflater.inflate(raw))
        return PprofProfile(decoder)
    }
}

/// One push as the service hands it over.
struct TestPush {
    var tenant: ByteString
    var labels: [(name: ByteString, value: ByteString)]
    var profile: [UInt8]
    var id: [UInt8]
    var annotations: [(key: ByteString, value: ByteString)] = []

    var message: PushRequestMessage {
        PushRequestMessage(tenantID: tenant, labels: labels, profile: profile, profileID: id, shard: 1, annotations: annotations)
    }
}

func profileID(_ n: UInt8) -> [UInt8] { (0 ..< 16).map { UInt8($0) &* 17 &+ n } }

extension ShardAccumulator {
    func ingest(_ push: TestPush) throws(PushError) {
        let bytes = push.message.encode()
        let result: Result<Void, PushError> = bytes.withUnsafeBytes { raw in
            do throws(PushError) {
                try ingest(try PushRequestView(raw))
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Flushes with fixed identifiers so two runs can be compared byte for byte.
    func flushObject() -> (meta: BlockMeta, bytes: [UInt8])? {
        var w = ByteWriter()
        let id = ULID(timeMs: 1_700_000_000_000, entropy: Array(repeating: 7, count: 10))
        guard let meta = flush(segmentID: id, shard: 1, createdBy: "test-host", into: &w) else { return nil }
        return (meta, w.bytes)
    }
}

/// Sums keyed by tenant, series labels (sorted by name) and the stack as function names.
typealias FoldedSums = [FoldKey: UInt64]

struct FoldKey: Hashable, CustomStringConvertible {
    var series: String
    /// The stack's function names, leaf first, folded by `StackHash`.
    var stack: UInt64
    var description: String { "\(series)|stack \(stack)" }
}

/// Order-sensitive hash of a sequence of function names (kept small so debug runs stay fast).
enum StackHash {
    static func name(_ s: ByteString) -> UInt64 { XXH64.hash(s.bytes) }
    static func append(_ h: UInt64, _ name: UInt64) -> UInt64 {
        var x = (h ^ name) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 31
        return x &* 0xBF58_476D_1CE4_E5B9 ^ (x >> 29)
    }
}

func seriesKey(tenant: ByteString, labels: [(ByteString, ByteString)]) -> String {
    let l = labels.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    return "\(tenant)|{\(l)}"
}

/// The reference: what the head must store, folded straight from the decoded push, written
/// plainly from profiles-parquet.md §2.2–§2.4 (no code shared with the accumulator).
func referenceFold(_ push: TestPush, into sums: inout FoldedSums) throws {
    let p = try decodeProfile(push.profile)
    let str = { (i: Int64) -> ByteString in i >= 0 && Int(i) < p.stringTable.count ? p.stringTable[Int(i)] : "" }
    let ignored: Set<ByteString> = ["trace_id", "span_id", "profile_id"]
    let functionsByID = Dictionary(p.functions.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    var namesByLocationID: [UInt64: [UInt64]] = [:]
    for l in p.locations { namesByLocationID[l.id] = l.lines.map { StackHash.name(str(functionsByID[$0.functionID]!.name)) } }
    var seriesKeys: [[Int64]: [String?]] = [:]
    for sample in p.samples {
        // Series labels: request labels (non-empty), then the sample's string labels in
        // (key, str) index order unless the name is already set.
        var labels: [(ByteString, ByteString)] = push.labels.filter { !$0.value.isEmpty }.map { ($0.name, $0.value) }
        let own = sample.labels.filter { $0.str > 0 && !ignored.contains(str($0.key)) }
            .sorted { ($0.key, $0.str) < ($1.key, $1.str) }
        for l in own where !labels.contains(where: { $0.0 == str(l.key) }) {
            if !str(l.str).isEmpty { labels.append((str(l.key), str(l.str))) }
        }
        labels.removeAll { $0.0 == "__delta__" || $0.0 == "__order__" }
        var stack: UInt64 = 0
        for id in sample.locationIDs {
            for n in namesByLocationID[id]! { stack = StackHash.append(stack, n) }
        }
        let labelKey = sample.labels.flatMap { [$0.key, $0.str, $0.num, $0.numUnit] }
        let keys = seriesKeys[labelKey] ?? p.sampleTypes.map { _ in nil }
        for (t, type) in p.sampleTypes.enumerated() where sample.values[t] != 0 {
            if let key = keys[t] {
                sums[FoldKey(series: key, stack: stack), default: 0] &+= UInt64(bitPattern: sample.values[t])
                continue
            }
            var series = labels
            func set(_ name: ByteString, _ value: ByteString) {
                series.removeAll { $0.0 == name }
                if !value.isEmpty { series.append((name, value)) }
            }
            let service = labels.first { $0.0 == "service_name" }?.1 ?? ""
            if !service.isEmpty { set("__service_name__", service) }
            let periodType = p.periodType.map { str($0.type) } ?? ""
            let periodUnit = p.periodType.map { str($0.unit) } ?? ""
            if p.periodType != nil {
                set("__period_type__", periodType)
                set("__period_unit__", periodUnit)
            }
            set("__type__", str(type.type))
            set("__unit__", str(type.unit))
            let name = labels.first { $0.0 == "__name__" }?.1 ?? ""
            set("__profile_type__", ByteString(name.bytes + Array(":".utf8) + str(type.type).bytes + Array(":".utf8)
                + str(type.unit).bytes + Array(":".utf8) + periodType.bytes + Array(":".utf8) + periodUnit.bytes))
            let key = seriesKey(tenant: push.tenant, labels: series)
            seriesKeys[labelKey, default: p.sampleTypes.map { _ in nil }][t] = key
            sums[FoldKey(series: key, stack: stack), default: 0] &+= UInt64(bitPattern: sample.values[t])
        }
    }
}

struct ReadBackError: Error, CustomStringConvertible {
    var description: String
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ReadBackError(description: message()) }
}

/// Reads a flushed object with the project's readers, checks the layout invariants of
/// profiles-parquet.md §10 and tsdb-index.md §7, and folds it like `referenceFold`.
func readBack(_ object: [UInt8]) throws -> FoldedSums {
    var sums = FoldedSums()
    try object.withUnsafeBytes { raw in
        let layout = try SegmentObjectReader.open(raw)
        for ds in layout.datasets where ds.format == .services {
            let slice = { (kind: SectionKind) in UnsafeRawBufferPointer(rebasing: raw[ds.section(kind)!.range]) }
            let index = try TSDBIndexReader.read(slice(.index))
            let table = try ProfilesParquetReader.read(slice(.profiles))
            let symbols = try SymbolDBReader.read(slice(.symbols))
            try require(symbols.partitions.count == 1 && symbols.partitions[0].key == 0, "one partition, key 0")
            let part = symbols.partitions[0]
            for (i, s) in index.series.enumerated() {
                try require(s.chunks.count == 1 && s.chunks[0].seriesIndex == UInt32(i), "chunk SeriesIndex = position")
                try require(SeriesFingerprint.of(s.labels) == s.fingerprint, "fingerprint of stored labels")
                try require(SeriesLabelOrder.enforce(s.labels) == s.labels, "enforced label order")
                if i > 0 { try require(SeriesLabelOrder.compareLabelPairs(index.series[i - 1].labels, s.labels) < 0, "series order") }
            }
            let c = table.columns
            var seen = Set<UInt32>()
            let seriesKeys = index.series.map { seriesKey(tenant: ds.tenant, labels: $0.labels.map { ($0.name, $0.value) }) }
            var stacks: [UInt64: UInt64] = [:]
            let nameHashes = part.functions.map { StackHash.name(part.strings[Int($0.name)]) }
            for r in 0 ..< c.rowCount {
                let si = c.seriesIndex[r]
                seen.insert(si)
                if r > 0 {
                    try require((c.seriesIndex[r - 1], c.timeNanos[r - 1]) <= (si, c.timeNanos[r]), "row order")
                }
                let series = index.series[Int(si)]
                try require(series.chunks[0].minTime <= c.timeNanos[r] && c.timeNanos[r] <= series.chunks[0].maxTime, "chunk times")
                try require(c.period[r] == 0, "Period is never written")
                var total: UInt64 = 0
                var last: UInt64 = 0
                for k in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
                    let v = UInt64(bitPattern: c.sampleValues[k])
                    try require(v != 0, "zero values are removed")
                    try require(c.sampleStacktraceIDs[k] >= last, "stack ids non-decreasing")
                    last = c.sampleStacktraceIDs[k]
                    total &+= v
                    let id = c.sampleStacktraceIDs[k]
                    if stacks[id] == nil {
                        var stack: UInt64 = 0
                        for loc in try part.resolveStack(UInt32(id)) {
                            for line in part.locations[Int(loc)].lines {
                                stack = StackHash.append(stack, nameHashes[Int(line.functionID)])
                            }
                        }
                        stacks[id] = stack
                    }
                    sums[FoldKey(series: seriesKeys[Int(si)], stack: stacks[id]!), default: 0] &+= v
                }
                try require(total == UInt64(bitPattern: c.totalValue[r]), "TotalValue = Σ values")
            }
            try require(seen == Set(0 ..< UInt32(index.series.count)), "every series has rows")
        }
    }
    return sums
}
