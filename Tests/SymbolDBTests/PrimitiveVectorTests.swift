import BinaryCoding
import ProfilesParquet
@testable import SymbolDB
import Testing
import TestSupport

/// symdb.md §11 check 1: CRC-32C, DELTA_BINARY_PACKED (§6.1) and group varint (§6.2) vectors.
@Suite struct PrimitiveVectorTests {
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    static let dbp32Vectors: [([Int32], String)] = [
        ([], "8001040000"),
        ([7], "800104010e"),
        ([186, 187, 188], "80010403f402f70208000000bdbd" + String(repeating: "00", count: 30)),
        ([5, 10, 20], "800104030a2705000000d903" + String(repeating: "00", count: 18)),
        ((0 ..< 200).map { Int32($0 * 3) },
         "800104c801" + "00" + "06" + "00000000" + "a909" + "0a0a0a00"
             + String(repeating: "5862892596", count: 16) + "5862892596" + "58628925" + String(repeating: "00", count: 31)),
    ]

    @Test(arguments: dbp32Vectors)
    func deltaBinaryPacked32MatchesUpstream(values: [Int32], expectedHex: String) throws {
        var w = ByteWriter()
        values.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
        #expect(hexString(w.bytes) == expectedHex)
        #expect(try decodeDBP32(w.bytes, count: values.count) == values)
    }

    @Test func deltaBinaryPacked64MatchesUpstream() throws {
        let values: [Int64] = [0x7f00_0000_1000, -1, 0]
        var w = ByteWriter()
        values.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
        let expected = "8001040380c0808080c03f" + "81c0808080c03f" + "2f000000" + String(repeating: "00", count: 6)
            + "01080000803f" + String(repeating: "00", count: 176)
        #expect(hexString(w.bytes) == expected)
        #expect(try decodeDBP64(w.bytes, count: 3) == values)
    }

    /// Wrapping deltas, u32 values above 2^31 and every block-boundary length round-trip.
    @Test func deltaBinaryPackedRoundTripsExtremes() throws {
        var rng = SplitMix64(seed: 7)
        for n in [0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 255, 256, 257, 1000, 1024] {
            let v32: [Int32] = (0 ..< n).map { i in
                i % 7 == 0 ? Int32.min : i % 5 == 0 ? Int32.max : Int32(truncatingIfNeeded: rng.next())
            }
            var w = ByteWriter()
            v32.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
            #expect(try decodeDBP32(w.bytes, count: n) == v32, "n = \(n)")
            let v64: [Int64] = (0 ..< n).map { i in i % 3 == 0 ? Int64.min : Int64(bitPattern: rng.next()) }
            w = ByteWriter()
            v64.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
            #expect(try decodeDBP64(w.bytes, count: n) == v64, "n = \(n)")
        }
    }

    @Test func deltaBinaryPackedRejectsWrongCountsAndTrailingBytes() {
        var w = ByteWriter()
        [Int32(5), 10, 20].withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
        #expect(throws: DecodeError.self) { try decodeDBP32(w.bytes, count: 4) }
        #expect(throws: DecodeError.self) { try decodeDBP32(w.bytes + [0], count: 3) }
        // A count of 2^32 with no blocks behind it must fail before reserving anything.
        let huge: [UInt8] = [0x80, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00]
        #expect(throws: DecodeError.self) { try decodeDBP32(huge, count: 1 << 32) }
    }

    @Test func groupVarintMatchesDgryski() throws {
        var w = ByteWriter()
        GroupVarint.append(1, 0, 2, 96, into: &w)
        #expect(hexString(w.bytes) == "0001000260")
        w = ByteWriter()
        GroupVarint.append(300, 70000, 0, 0xFFFF_FFFF, into: &w)
        #expect(hexString(w.bytes) == "c92c0170110100ffffffff")
        let g = try w.bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            let result: Result<(UInt32, UInt32, UInt32, UInt32), DecodeError>
            do throws(DecodeError) { result = .success(try GroupVarint.read(&r)) } catch { result = .failure(error) }
            return result
        }.get()
        #expect(g.0 == 300 && g.1 == 70000 && g.2 == 0 && g.3 == 0xFFFF_FFFF)
    }

    @Test func zigzagParentDeltas() {
        #expect(StackTreeCodec.zigzag(-1) == 1)
        #expect(StackTreeCodec.zigzag(1) == 2)
        #expect(StackTreeCodec.unzigzag(StackTreeCodec.zigzag(-123_456)) == -123_456)
    }

    /// Chunks decode onto the same columns; their room grows by doubling, so a tree of many
    /// small chunks (a writer's choice, or a hostile file) costs no copy per chunk.
    @Test func manyChunksGrowTheColumnsByDoubling() throws {
        var w = ByteWriter()
        // A chunk: its root (-1, 0) and one child (0, 1).
        StackTreeCodec.encode(parents: [UInt32(bitPattern: -1), 0], locations: [0, 1], range: 0 ..< 2, into: &w)
        var parents: [UInt32] = [], locations: [UInt32] = []
        var capacities: Set<Int> = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: w.count, alignment: 1)
        defer { chunk.deallocate() }
        chunk.copyBytes(from: w.bytes)
        for _ in 0 ..< 4096 {
            try StackTreeCodec.decode(UnsafeRawBufferPointer(chunk), nodeCount: 2, locationCount: 2,
                                      parents: &parents, locations: &locations)
            capacities.insert(parents.capacity)
        }
        #expect(parents.count == 8192 && locations.count == 8192)
        #expect(parents[8190] == UInt32(bitPattern: -1) && locations[8191] == 1)
        #expect(capacities.count <= 16)
    }
}

