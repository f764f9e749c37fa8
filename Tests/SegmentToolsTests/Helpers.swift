import BinaryCoding
import Foundation
import Pprof
import ProfilesParquet
import SegmentObject
import SegmentTools
import SymbolDB
import TestSupport
import TSDBIndex
import Testing

/// Every golden object with its block-metas.json entry.
func goldenInputs() throws -> [ObjectInput] {
    try TestData.goldenSegments().map { try ObjectInput(path: $0.url.path, metaPath: TestData.blockMetasJSON.path) }
}

/// block-metas.json as Foundation sees it: block ID → block.
func blockMetasByID() throws -> [String: [String: Any]] {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: TestData.blockMetasJSON)) as! [String: Any]
    let blocks = json["blocks"] as! [[String: Any]]
    return Dictionary(uniqueKeysWithValues: blocks.map { ($0["id"] as! String, $0) })
}

/// Per row: stack (function names, leaf first, inlined frames before their caller) → summed value.
typealias RowSums = [[ByteString]: Int64]

/// The reference: straight from the section readers, without SegmentTools.
func referenceSums(profiles: UnsafeRawBufferPointer, symbols: UnsafeRawBufferPointer) throws -> [RowSums] {
    let table = try ProfilesParquetReader.read(profiles)
    let db = try SymbolDBReader.read(symbols)
    let partitions = Dictionary(db.partitions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    let c = table.columns
    return try (0 ..< c.rowCount).map { r in
        let p = try #require(partitions[c.stacktracePartition[r]])
        var sums: RowSums = [:]
        for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
            let stack = try p.resolveStack(UInt32(c.sampleStacktraceIDs[s]))
            let names = stack.flatMap { i in p.locations[Int(i)].lines.map { p.strings[Int(p.functions[Int($0.functionID)].name)] } }
            sums[names, default: 0] += c.sampleValues[s]
        }
        return sums
    }
}

/// An exported gzipped pprof decoded with `PprofDecoder`.
func decodePprof(_ gzip: [UInt8]) throws -> PprofProfile {
    let inflater = ProfileInflater(maxDecompressedBytes: 256 << 20)
    let decoder = PprofDecoder()
    return try gzip.withUnsafeBytes { raw in
        try decoder.decode(try inflater.inflate(raw))
        return PprofProfile(decoder)
    }
}

/// Stack (function names) → summed value of the first sample type.
func sums(_ p: PprofProfile) throws -> RowSums {
    let locations = Dictionary(p.locations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let functions = Dictionary(p.functions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    var out: RowSums = [:]
    for s in p.samples {
        let names = try s.locationIDs.flatMap { id in
            try #require(locations[id]).lines.map { p.stringTable[Int(functions[$0.functionID]!.name)] }
        }
        out[names, default: 0] += s.values[0]
    }
    return out
}

/// Label name → value of one sample.
func labels(_ p: PprofProfile, _ s: PprofProfile.Sample) -> [ByteString: ByteString] {
    Dictionary(s.labels.map { (p.stringTable[Int($0.key)], p.stringTable[Int($0.str)]) }, uniquingKeysWith: { a, _ in a })
}

/// A segment built by the accumulator (trailer, no external metadata) from corpus profiles.
func accumulatedObject(_ files: [String]) throws -> [UInt8] {
    let acc = ShardAccumulatorHarness()
    for (i, file) in files.enumerated() {
        let profile = try TestData.bytes(TestData.pprofDirectory.appendingPathComponent(file))
        for service in ["api", "worker"] where i % 2 == 0 || service == "api" {
            try acc.push(tenant: i % 3 == 0 ? "tenant-b" : "tenant-a", service: ByteString(service), profile: profile, n: UInt8(i))
        }
    }
    return try #require(acc.flush())
}
