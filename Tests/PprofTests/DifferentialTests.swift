import BinaryCoding
import Pprof
import Testing
import TestSupport

/// `PprofDecoder`'s fast paths (hand-written Sample, Label, Location, Line and Function readers)
/// against `ReferenceDecoder`: the same profile or the same error, for real files, their
/// truncations and mutations, and for encodings real producers rarely write (unpacked or split
/// repeated fields, unknown fields, fields out of order, non-minimal keys and varints, long values).
@Suite struct DifferentialTests {
    static func outcome(_ bytes: [UInt8], _ decoder: PprofDecoder) -> Result<PprofProfile, PprofError> {
        bytes.withUnsafeBytes { raw in
            do throws(PprofError) {
                try decoder.decode(raw)
                return .success(PprofProfile(decoder))
            } catch {
                return .failure(error)
            }
        }
    }

    static func reference(_ bytes: [UInt8]) -> Result<PprofProfile, PprofError> {
        bytes.withUnsafeBytes { ReferenceDecoder.decode($0) }
    }

    static func raw(_ name: String) throws -> [UInt8] {
        let inflater = ProfileInflater()
        return try withExtendedLifetime(inflater) { try corpusFile(name).withUnsafeBytes { Array(try inflater.inflate($0)) } }
    }

    @Test(arguments: CorpusCounts.all.map(\.name))
    func corpusFileDecodesAsTheReferenceDoes(_ name: String) throws {
        let bytes = try Self.raw(name)
        let expected = Self.reference(bytes)
        #expect(Self.outcome(bytes, PprofDecoder()) == expected)
        if case .failure(let e) = expected { Issue.record("reference refused \(name): \(e)") }
    }

    @Test func everyTruncationDecodesAsTheReferenceDoes() throws {
        let d = PprofDecoder()
        for bytes in [try Self.raw("pyspy-1.pb.gz"), WireVariants.profile(seed: 1)] {
            for cut in 0 ... bytes.count {
                let prefix = Array(bytes.prefix(cut))
                #expect(Self.outcome(prefix, d) == Self.reference(prefix), "cut \(cut) of \(bytes.count)")
            }
        }
    }

    @Test(arguments: ["pyspy-1.pb.gz", "profile_nodejs", "heap_delta", "single_group_with_optional_span_id.pb.gz"])
    func mutationsOfRealProfilesDecodeAsTheReferenceDoes(_ name: String) throws {
        let bytes = try Self.raw(name)
        let d = PprofDecoder()
        var rng = SplitMix64(seed: UInt64(name.utf8.count) &* 0x2545F491)
        for i in 0 ..< 300 {
            let mutated = RobustnessTests.mutate(bytes, &rng)
            #expect(Self.outcome(mutated, d) == Self.reference(mutated), "mutation \(i)")
        }
    }

    @Test func unusualEncodingsDecodeAsTheReferenceDoes() {
        let d = PprofDecoder()
        var decoded = 0
        for seed in 0 ..< 400 as Range<UInt64> {
            let bytes = WireVariants.profile(seed: seed)
            let expected = Self.reference(bytes)
            #expect(Self.outcome(bytes, d) == expected, "seed \(seed)")
            if case .success = expected { decoded += 1 }
            var rng = SplitMix64(seed: seed ^ 0xABCD)
            for _ in 0 ..< 10 {
                let mutated = RobustnessTests.mutate(bytes, &rng)
                #expect(Self.outcome(mutated, d) == Self.reference(mutated), "seed \(seed) mutated")
            }
        }
        #expect(decoded > 300) // most variants are valid: the fast paths' fallbacks are exercised
    }

    /// Edges of the packed-run reader, one by one (sample field 1 = location ids).
    @Test(arguments: [
        ("unpacked ids", [0x08, 0x01, 0x08, 0x96, 0x01, 0x08, 0x7F]),
        ("packed then unpacked then packed", [0x0A, 0x02, 0x01, 0x02, 0x08, 0x03, 0x0A, 0x01, 0x04]),
        ("empty packed run", [0x0A, 0x00, 0x12, 0x00]),
        ("10-byte varint ending a run", [0x0A, 0x0B, 0x05] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("10-byte varint overflowing in a run", [0x0A, 0x0B, 0x05] + [UInt8](repeating: 0xFF, count: 9) + [0x02]),
        ("11-byte varint in a run", [0x0A, 0x0C, 0x05] + [UInt8](repeating: 0x80, count: 10) + [0x00]),
        ("three-byte varint ending a run", [0x0A, 0x04, 0x01, 0xFF, 0xFF, 0x03]),
        ("run of two-byte ids", [0x0A, 0x12] + [[UInt8]](repeating: [0x96, 0x01], count: 9).flatMap { $0 }),
        ("four two-byte ids, then a three-byte one", [0x0A, 0x0B] + [[UInt8]](repeating: [0x96, 0x01], count: 4).flatMap { $0 } + [0x80, 0x80, 0x01]),
        ("four two-byte ids, then one-byte ones", [0x0A, 0x0C] + [[UInt8]](repeating: [0xFF, 0x7F], count: 4).flatMap { $0 } + [1, 2, 3, 4]),
        ("four two-byte ids, then a cut one", [0x0A, 0x09] + [[UInt8]](repeating: [0x96, 0x01], count: 4).flatMap { $0 } + [0x96]),
        ("two-byte ids behind a three-byte one", [0x0A, 0x0B, 0x80, 0x80, 0x01] + [[UInt8]](repeating: [0x96, 0x01], count: 4).flatMap { $0 }),
        ("run cut inside its last varint", [0x0A, 0x03, 0x01, 0x02, 0x80]),
        ("run longer than the sample", [0x0A, 0x05, 0x01, 0x02]),
        ("run length cut off", [0x0A]),
        ("two-byte run length", [0x0A, 0x80, 0x01] + [UInt8](repeating: 0x01, count: 128)),
        ("non-minimal key for field 1", [0x88, 0x00, 0x05, 0x8A, 0x00, 0x01, 0x06]),
        ("unknown fields between", [0x48, 0x01, 0x0A, 0x01, 0x02, 0x55, 0, 0, 0, 0, 0x59, 0, 0, 0, 0, 0, 0, 0, 0, 0x62, 0x01, 0xFF, 0x12, 0x01, 0x03]),
        ("ids as fixed64", [0x09, 1, 0, 0, 0, 0, 0, 0, 0]),
        ("values as fixed32", [0x15, 1, 0, 0, 0]),
        ("label as varint", [0x18, 0x01]),
        ("group wire type", [0x0B, 0x0C]),
        ("field number 0", [0x02, 0x00]),
        ("unterminated key", [0x80]),
        ("negative values, unpacked and packed", [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01, 0x12, 0x0A] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("label out of order with unknown field", [0x1A, 0x0A, 0x20, 0x05, 0x18, 0x07, 0x30, 0x01, 0x08, 0x01, 0x10, 0x02]),
        ("label with repeated and non-minimal fields", [0x1A, 0x07, 0x08, 0x01, 0x08, 0x82, 0x00, 0x10, 0x03]),
        ("label cut inside", [0x1A, 0x04, 0x08, 0x01, 0x10]),
        ("label field as bytes", [0x1A, 0x03, 0x0A, 0x01, 0x00]),
        ("label with 10-byte num", [0x1A, 0x0B, 0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("empty label", [0x1A, 0x00, 0x1A, 0x00]),
        // The usual layout (packed ids, packed values, short labels) and its near misses.
        ("usual layout", [0x0A, 0x03, 0x01, 0x96, 0x01, 0x12, 0x01, 0x07, 0x1A, 0x04, 0x08, 0x01, 0x10, 0x02]),
        ("usual layout, numeric label with a 5-byte num", [0x0A, 0x01, 0x01, 0x12, 0x01, 0x07, 0x1A, 0x0A, 0x08, 0x01, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x20, 0x03]),
        ("usual layout, label with a 9-byte num", [0x0A, 0x01, 0x01, 0x1A, 0x0C, 0x08, 0x01, 0x18] + [UInt8](repeating: 0xFF, count: 8) + [0x7F, 0x20, 0x03]),
        ("usual layout, label of 18 bytes", [0x0A, 0x01, 0x01, 0x1A, 0x12, 0x08, 0x01, 0x10] + [UInt8](repeating: 0x81, count: 8) + [0x00, 0x18, 0x05, 0x20, 0x01, 0x08, 0x02]),
        ("usual layout, label cut in a varint", [0x0A, 0x01, 0x01, 0x12, 0x01, 0x07, 0x1A, 0x04, 0x08, 0x01, 0x18, 0x80]),
        ("usual layout, label longer than the sample", [0x0A, 0x01, 0x01, 0x12, 0x01, 0x07, 0x1A, 0x05, 0x08, 0x01]),
        ("usual layout, label length cut off", [0x0A, 0x01, 0x01, 0x12, 0x01, 0x07, 0x1A]),
        ("usual layout, unknown field after the labels", [0x0A, 0x01, 0x01, 0x12, 0x01, 0x07, 0x1A, 0x02, 0x08, 0x01, 0x48, 0x01]),
        ("usual layout, then a second id run", [0x0A, 0x01, 0x01, 0x12, 0x01, 0x07, 0x0A, 0x01, 0x02]),
        ("values before ids", [0x12, 0x01, 0x07, 0x0A, 0x02, 0x01, 0x02]),
        ("labels before values", [0x0A, 0x01, 0x01, 0x1A, 0x02, 0x08, 0x01, 0x12, 0x01, 0x07]),
        ("unpacked values before packed ids", [0x10, 0x07, 0x10, 0x08, 0x0A, 0x02, 0x01, 0x02, 0x1A, 0x02, 0x08, 0x01]),
        ("values only", [0x12, 0x02, 0x07, 0x08]),
        ("labels only", [0x1A, 0x02, 0x08, 0x01]),
        ("ids run with a three-byte length", [0x0A, 0x80, 0x80, 0x01] + [UInt8](repeating: 0x01, count: 1 << 14)),
        ("values run with a 10-byte varint", [0x0A, 0x01, 0x01, 0x12, 0x0A] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("values run cut inside its last varint", [0x0A, 0x01, 0x01, 0x12, 0x03, 0x01, 0x02, 0x80]),
        ("values run of 9-, 3- and 1-byte varints", [0x0A, 0x01, 0x01, 0x12, 0x0D] + [UInt8](repeating: 0xFF, count: 8) + [0x7F, 0x81, 0x80, 0x01, 0x05]),
        ("empty values run before labels", [0x0A, 0x01, 0x01, 0x12, 0x00, 0x1A, 0x02, 0x08, 0x01]),
        ("values run longer than the sample", [0x0A, 0x01, 0x01, 0x12, 0x05, 0x01]),
        ("unpacked values, packed ids, labels", [0x10, 0x07, 0x10, 0x96, 0x01, 0x0A, 0x02, 0x01, 0x02, 0x1A, 0x04, 0x08, 0x01, 0x10, 0x02]),
        ("packed ids, unpacked values", [0x0A, 0x02, 0x01, 0x02, 0x10, 0x07, 0x10, 0x08]),
        ("unpacked ids, packed values", [0x08, 0x01, 0x08, 0x02, 0x12, 0x01, 0x07]),
        ("unpacked values then unpacked ids", [0x10, 0x07, 0x08, 0x01, 0x08, 0x02]),
        ("unpacked id cut off", [0x10, 0x07, 0x08, 0x80]),
        ("unpacked value with a 10-byte varint after ids", [0x0A, 0x01, 0x01, 0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("unpacked id after packed values", [0x12, 0x01, 0x07, 0x08, 0x01]),
    ] as [(String, [UInt8])])
    func sampleEdgeDecodesAsTheReferenceDoes(_ name: String, _ sample: [UInt8]) {
        var w = ByteWriter()
        w.appendBytesField(1, [0x08, 0x01, 0x10, 0x02]) // one sample type
        w.appendBytesField(2, [0x0A, 0x02, 0x01, 0x02, 0x12, 0x01, 0x07]) // a plain sample before
        w.appendBytesField(2, sample)
        w.appendBytesField(2, [0x0A, 0x01, 0x03, 0x12, 0x01, 0x08]) // and after
        let d = PprofDecoder()
        #expect(Self.outcome(w.bytes, d) == Self.reference(w.bytes), "\(name)")
    }

    /// The same edges for the messages after the samples (Location 4, Line inside it, Function 5).
    @Test(arguments: [
        ("location in order", 4, [0x08, 0x01, 0x10, 0x02, 0x18, 0x80, 0x80, 0x04, 0x22, 0x04, 0x08, 0x01, 0x10, 0x05, 0x28, 0x01]),
        ("location out of order", 4, [0x28, 0x01, 0x22, 0x02, 0x08, 0x03, 0x18, 0x07, 0x08, 0x09, 0x22, 0x00]),
        ("location unknown fields", 4, [0x08, 0x01, 0x30, 0x05, 0x3A, 0x01, 0x00, 0x22, 0x05, 0x08, 0x01, 0x20, 0x01, 0x18]),
        ("location 10-byte address", 4, [0x08, 0x01, 0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("location overflowing address", 4, [0x08, 0x01, 0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x03]),
        ("location id as bytes", 4, [0x0A, 0x01, 0x01]),
        ("location line as varint", 4, [0x20, 0x01]),
        ("location cut in line", 4, [0x08, 0x01, 0x22, 0x04, 0x08, 0x01]),
        ("line cut inside", 4, [0x08, 0x01, 0x22, 0x02, 0x08, 0x80]),
        ("line with negative line", 4, [0x22, 0x0C, 0x08, 0x01, 0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("line with column", 4, [0x22, 0x06, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x22, 0x00]),
        ("line non-minimal key", 4, [0x22, 0x04, 0x88, 0x00, 0x01, 0x10]),
        ("line field as fixed32", 4, [0x22, 0x05, 0x0D, 0, 0, 0, 0]),
        ("function in order", 5, [0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x20, 0x04, 0x28, 0x90, 0x4E]),
        ("function out of order", 5, [0x28, 0x05, 0x08, 0x07, 0x20, 0x01, 0x08, 0x08]),
        ("function unknown fields", 5, [0x08, 0x01, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x02]),
        ("function cut in varint", 5, [0x08, 0x01, 0x10, 0x80]),
        ("function name as bytes", 5, [0x12, 0x00]),
        ("function with 10-byte start line", 5, [0x08, 0x01, 0x28] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
        ("function overflowing id", 5, [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]),
        ("function non-minimal key", 5, [0x88, 0x80, 0x00, 0x01]),
        ("location with a 5-byte address and two lines", 4, [0x08, 0x01, 0x10, 0x01, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x22, 0x04, 0x08, 0x01, 0x10, 0x05, 0x22, 0x02, 0x08, 0x02]),
        ("line with a 9-byte line number", 4, [0x08, 0x01, 0x22, 0x0E, 0x08, 0x01, 0x10] + [UInt8](repeating: 0xFF, count: 8) + [0x7F, 0x18, 0x00]),
        ("line with an unknown field", 4, [0x08, 0x01, 0x22, 0x04, 0x08, 0x01, 0x30, 0x01]),
        ("line of a two-byte length", 4, [0x08, 0x01, 0x22, 0x80, 0x01] + [UInt8](repeating: 0, count: 64).flatMap { _ in [0x10, 0x01] as [UInt8] }),
        ("line longer than its location", 4, [0x08, 0x01, 0x22, 0x05, 0x08, 0x01]),
        ("location folded twice", 4, [0x28, 0x01, 0x28, 0x00, 0x08, 0x03]),
        ("location with an 8-byte address, then a line", 4, [0x08, 0x01, 0x18] + [UInt8](repeating: 0xFF, count: 7) + [0x7F, 0x22, 0x02, 0x08, 0x01]),
        ("location with a 9-byte address, then a line", 4, [0x08, 0x01, 0x18] + [UInt8](repeating: 0xFF, count: 8) + [0x7F, 0x22, 0x02, 0x08, 0x01]),
        ("location with a 10-byte address, then lines", 4, [0x08, 0x01, 0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01, 0x22, 0x02, 0x08, 0x01, 0x22, 0x00]),
        ("location ending in a 5-byte address", 4, [0x08, 0x01, 0x22, 0x02, 0x08, 0x01, 0x18, 0x81, 0x82, 0x83, 0x84, 0x05]),
        ("location with a one-byte address, then lines", 4, [0x18, 0x05, 0x22, 0x02, 0x08, 0x01, 0x22, 0x02, 0x08, 0x02, 0x08, 0x03]),
        ("location with a two-byte id cut off", 4, [0x10, 0x01, 0x08, 0x81]),
        ("empty location", 4, []),
        ("function with repeated fields", 5, [0x08, 0x01, 0x10, 0x02, 0x10, 0x03, 0x08, 0x04]),
        ("function with a 9-byte start line", 5, [0x08, 0x01, 0x28] + [UInt8](repeating: 0xFF, count: 8) + [0x7F]),
        ("function cut in a two-byte varint", 5, [0x08, 0x81]),
        ("empty function", 5, []),
    ] as [(String, UInt32, [UInt8])])
    func symbolEdgeDecodesAsTheReferenceDoes(_ name: String, _ field: UInt32, _ message: [UInt8]) {
        var w = ByteWriter()
        w.appendBytesField(field, [0x08, 0x01])
        w.appendBytesField(field, message)
        w.appendBytesField(field, [0x08, 0x02])
        let d = PprofDecoder()
        #expect(Self.outcome(w.bytes, d) == Self.reference(w.bytes), "\(name)")
    }

    /// Addresses of every varint length (the location reader decodes those ending within a
    /// word from one load), with and without a line after them.
    @Test func addressesOfEveryLengthDecodeAsTheReferenceDoes() {
        let d = PprofDecoder()
        for length in 1 ... 11 {
            for last: UInt8 in [0x00, 0x01, 0x7F] {
                let address = [UInt8](repeating: 0xFF, count: length - 1) + [last]
                for line in [[], [0x22, 0x02, 0x08, 0x01], [0x22, 0x06, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03]] as [[UInt8]] {
                    var w = ByteWriter()
                    w.appendBytesField(4, [0x08, 0x01, 0x18] + address + line)
                    #expect(Self.outcome(w.bytes, d) == Self.reference(w.bytes), "length \(length), last \(last), line \(line)")
                }
            }
        }
    }

    /// After a refused profile the next one decodes whole (no state leaks from the failure).
    @Test func decoderRecoversAfterARefusal() throws {
        let d = PprofDecoder()
        let good = try Self.raw("profile_nodejs")
        for cut in stride(from: 7, to: good.count, by: 97) {
            _ = Self.outcome(Array(good.prefix(cut)), d)
            #expect(Self.outcome(good, d) == Self.reference(good))
        }
    }
}

/// Random pprof profiles whose fields are encoded in the ways a generic protobuf reader
/// accepts but `runtime/pprof` and Go's marshaller rarely write.
enum WireVariants {
    static func profile(seed: UInt64) -> [UInt8] {
        var g = Generator(rng: SplitMix64(seed: seed &* 0x9E37_79B9 &+ 17))
        return g.profile()
    }

    struct Generator {
        var rng: SplitMix64

        mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0 ..< 100, using: &rng) < percent }

        /// Small values mostly, sometimes multi-byte, rarely the full 64 bits.
        mutating func value() -> UInt64 {
            switch Int.random(in: 0 ..< 20, using: &rng) {
            case 0: UInt64.random(in: 0 ... .max, using: &rng)
            case 1, 2: UInt64.random(in: 128 ..< 1 << 21, using: &rng)
            case 3: UInt64(bitPattern: -Int64.random(in: 1 ... 1000, using: &rng))
            default: UInt64.random(in: 0 ..< 128, using: &rng)
            }
        }

        /// A varint, now and then with redundant continuation bytes (still 10 bytes at most).
        mutating func varint(_ w: inout ByteWriter, _ v: UInt64) {
            let size = ByteWriter.uvarintSize(v)
            guard size < 10, chance(5) else { return w.appendUvarint(v) }
            var rest = v
            let padded = min(10, size + Int.random(in: 1 ... 2, using: &rng))
            for i in 0 ..< padded {
                let last = i == padded - 1
                w.append(UInt8(rest & 0x7F) | (last ? 0 : 0x80))
                rest >>= 7
            }
        }

        mutating func key(_ w: inout ByteWriter, _ field: UInt32, _ wire: WireType) {
            varint(&w, UInt64(field) << 3 | UInt64(wire.rawValue))
        }

        mutating func unknownField(_ w: inout ByteWriter) {
            let field = UInt32.random(in: 6 ... 40, using: &rng)
            switch Int.random(in: 0 ..< 4, using: &rng) {
            case 0: key(&w, field, .varint); varint(&w, value())
            case 1: key(&w, field, .fixed32); w.appendLE32(UInt32.random(in: 0 ... .max, using: &rng))
            case 2: key(&w, field, .fixed64); w.appendLE64(UInt64.random(in: 0 ... .max, using: &rng))
            default:
                key(&w, field, .lengthDelimited)
                let n = Int.random(in: 0 ..< 5, using: &rng)
                varint(&w, UInt64(n))
                for _ in 0 ..< n { w.append(UInt8.random(in: 0 ... 255, using: &rng)) }
            }
        }

        mutating func embedded(_ w: inout ByteWriter, _ field: UInt32, _ body: [UInt8]) {
            key(&w, field, .lengthDelimited)
            varint(&w, UInt64(body.count))
            w.append(contentsOf: body)
        }

        /// Scalar fields in random order, some repeated, with unknown fields mixed in.
        mutating func scalars(_ fields: ClosedRange<UInt32>) -> [UInt8] {
            var w = ByteWriter()
            for field in fields.shuffled(using: &rng) where chance(85) {
                if chance(10) { unknownField(&w) }
                for _ in 0 ..< (chance(10) ? 2 : 1) {
                    key(&w, field, .varint)
                    varint(&w, value())
                }
            }
            if chance(10) { unknownField(&w) }
            return w.bytes
        }

        mutating func repeatedVarints(_ w: inout ByteWriter, _ field: UInt32, _ values: [UInt64]) {
            var i = 0
            while i < values.count {
                let n = Int.random(in: 1 ... values.count - i, using: &rng)
                let run = values[i ..< i + n]
                if chance(25) {
                    for v in run { key(&w, field, .varint); varint(&w, v) }
                } else {
                    var body = ByteWriter()
                    for v in run { varint(&body, v) }
                    embedded(&w, field, body.bytes)
                }
                i += n
            }
            if chance(5) { embedded(&w, field, []) }
        }

        mutating func sample() -> [UInt8] {
            var w = ByteWriter()
            var parts: [Int] = [0, 1, 2]
            if chance(20) { parts.shuffle(using: &rng) }
            for part in parts {
                if chance(8) { unknownField(&w) }
                switch part {
                case 0: repeatedVarints(&w, 1, (0 ..< Int.random(in: 0 ..< 70, using: &rng)).map { _ in value() })
                case 1: repeatedVarints(&w, 2, (0 ..< Int.random(in: 0 ..< 4, using: &rng)).map { _ in value() })
                default:
                    for _ in 0 ..< Int.random(in: 0 ..< 4, using: &rng) { embedded(&w, 3, scalars(1 ... 4)) }
                }
            }
            return w.bytes
        }

        mutating func location() -> [UInt8] {
            var w = ByteWriter()
            w.append(contentsOf: scalars(1 ... 3))
            for _ in 0 ..< Int.random(in: 0 ..< 4, using: &rng) { embedded(&w, 4, scalars(1 ... 3)) }
            if chance(30) { key(&w, 5, .varint); varint(&w, UInt64(Int.random(in: 0 ... 1, using: &rng))) }
            if chance(10) { unknownField(&w) }
            return w.bytes
        }

        mutating func profile() -> [UInt8] {
            var w = ByteWriter()
            embedded(&w, 1, scalars(1 ... 2))
            for _ in 0 ..< Int.random(in: 0 ..< 30, using: &rng) { embedded(&w, 2, sample()) }
            if chance(20) { embedded(&w, 3, scalars(1 ... 10)) }
            for _ in 0 ..< Int.random(in: 0 ..< 20, using: &rng) {
                if chance(5) { embedded(&w, 2, sample()) } // a sample after the symbols
                embedded(&w, 4, location())
            }
            for _ in 0 ..< Int.random(in: 0 ..< 20, using: &rng) { embedded(&w, 5, scalars(1 ... 5)) }
            for s in ["", "a", "bb"] { embedded(&w, 6, Array(s.utf8)) }
            if chance(30) { key(&w, 9, .varint); varint(&w, value()) }
            return w.bytes
        }
    }
}
