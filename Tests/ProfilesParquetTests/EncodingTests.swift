import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

/// §5.2 byte vectors and encoder/decoder agreement.
@Suite struct EncodingTests {
    func levels(_ l: [UInt8], width: Int) -> [UInt8] {
        var w = ByteWriter()
        l.withUnsafeBufferPointer { HybridRLE.encodeLevels($0, bitWidth: width, into: &w) }
        return w.bytes
    }

    @Test func levelRunSelectionVectors() {
        let rep = [0] + [UInt8](repeating: 1, count: 55) + [0] + [UInt8](repeating: 1, count: 55)
        #expect(levels(rep, width: 1) == [0x05, 0xfe, 0xff, 0x50, 0x01, 0x05, 0xfe, 0xff, 0x50, 0x01])
        #expect(levels([UInt8](repeating: 1, count: 112), width: 1) == [0xe0, 0x01, 0x01])
        #expect(levels([0, 0], width: 1) == [0x04, 0x00])
        #expect(levels([1, 0], width: 1) == [0x02, 0x01, 0x02, 0x00])
    }

    @Test func deltaVector() {
        var w = ByteWriter()
        [Int64(0), 1].withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, bits32: true, into: &w) }
        #expect(w.bytes == [0x80, 0x01, 0x04, 0x02, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
    }

    /// Seeded random sequences (including 64-bit extremes and 32-bit wrap) decode to what was encoded.
    @Test func deltaRoundTrips() throws {
        var rng = SplitMix64(seed: 7)
        for trial in 0 ..< 200 {
            let n = Int(rng.next() % 400)
            let bits32 = trial % 2 == 0
            let values: [Int64] = (0 ..< n).map { _ in
                let raw = rng.next()
                let v: Int64 = trial % 5 == 0 ? Int64(bitPattern: raw) : Int64(raw % 1000) - 500
                return bits32 ? Int64(Int32(truncatingIfNeeded: v)) : v
            }
            var w = ByteWriter()
            values.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, bits32: bits32, into: &w) }
            var (out, consumed) = try decodeDelta(w.bytes, maxCount: n)
            #expect(consumed == w.count)
            if bits32 { out = out.map { Int64(Int32(truncatingIfNeeded: $0)) } }
            #expect(out == values)
        }
    }

    @Test func hybridRoundTrips() throws {
        var rng = SplitMix64(seed: 9)
        for trial in 0 ..< 200 {
            let width = trial % 12
            let n = Int(rng.next() % 300)
            let runny = trial % 3 == 0
            let values: [UInt32] = (0 ..< n).map { i in
                width == 0 ? 0 : UInt32(truncatingIfNeeded: runny ? UInt64(i / 17) : rng.next()) & ((1 << UInt32(width)) - 1)
            }
            var w = ByteWriter()
            values.withUnsafeBufferPointer { HybridRLE.encodeIndices($0, bitWidth: width, into: &w) }
            #expect(try decodeHybrid(w.bytes, bitWidth: width, count: n) == values)
        }
    }
}

func decodeDelta(_ bytes: [UInt8], maxCount: Int) throws -> ([Int64], Int) {
    try bytes.withUnsafeBytes { raw in
        var r = ByteReader(raw)
        var out: [Int64] = []
        try DeltaBinaryPacked.decode(&r, maxCount: maxCount, into: &out)
        return (out, r.offset)
    }
}

func decodeHybrid(_ bytes: [UInt8], bitWidth: Int, count: Int) throws -> [UInt32] {
    try bytes.withUnsafeBytes { raw in
        var r = ByteReader(raw)
        var out: [UInt32] = []
        try HybridRLE.decode(&r, bitWidth: bitWidth, count: count, into: &out)
        return out
    }
}

