import BinaryCoding
import Testing

@Suite struct PrimitivesTests {
    @Test func crc32cCheckValue() {
        // segment-object.md §0 / §15.1
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func crc32cContinuesAcrossChunksAndMatchesSoftwareOnAllLengths() {
        let data = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = CRC32C.checksum(data)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(Array(data[..<split]))
            #expect(CRC32C.checksum(Array(data[split...]), continuing: first) == whole)
        }
        // Bitwise reference for every length 0...64 (exercises the hardware tail handling).
        for n in 0 ... 64 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in data[..<n] {
                c ^= UInt32(b)
                for _ in 0 ..< 8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            #expect(CRC32C.checksum(Array(data[..<n])) == ~c)
        }
    }

    @Test func xxh64PublishedVectors() {
        #expect(XXH64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXH64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXH64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(XXH64.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
        #expect(XXH64.hash(Array("xxhash".utf8), seed: 20141025) == 0xB559_B98D_844E_0635)
    }

    @Test func varintsRoundTripAndRejectOverflow() throws {
        let values: [UInt64] = [0, 1, 127, 128, 300, 1 << 35, UInt64.max]
        var w = ByteWriter()
        for v in values { w.appendUvarint(v) }
        let signed: [Int64] = [0, -1, 1, -64, 64, Int64.min, Int64.max]
        for v in signed { w.appendVarint(v) }
        try w.bytes.withUnsafeBytes { raw throws in
            var r = ByteReader(raw)
            for v in values { #expect(try r.readUvarint() == v) }
            for v in signed { #expect(try r.readVarint() == v) }
            #expect(r.isAtEnd)
        }
        for v in values { #expect(ByteWriter.uvarintSize(v) == { var t = ByteWriter(); t.appendUvarint(v); return t.count }()) }
        let overflow: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]
        overflow.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            #expect(throws: DecodeError.self) { try r.readUvarint() }
        }
        [UInt8]([0x80, 0x80]).withUnsafeBytes { raw in
            var r = ByteReader(raw)
            #expect(throws: DecodeError.self) { try r.readUvarint() }
        }
    }

    @Test func readerNeverReadsPastTheEnd() {
        [UInt8]([1, 2, 3]).withUnsafeBytes { raw in
            var r = ByteReader(raw)
            #expect(throws: DecodeError.self) { try r.readBE32() }
            #expect(r.offset == 0)
            #expect(throws: DecodeError.self) { try r.readBytes(4) }
            #expect(throws: DecodeError.self) { try r.readBytes(-1) }
            #expect(throws: DecodeError.self) { try r.seek(to: 4) }
        }
    }

    @Test func protobufFieldsRoundTrip() throws {
        var w = ByteWriter()
        w.appendVarintField(1, 1)
        w.appendStringField(2, "01J2VJR31PT3X4NDJC4Q2BHWQ1")
        w.appendInt64Field(3, -1)
        w.appendPackedVarints(5, [0, 4549, 7747] as [UInt64])
        w.appendMessageField(10) { $0.appendVarintField(1, 2) }
        try w.bytes.withUnsafeBytes { raw throws in
            var p = ProtobufReader(raw)
            var seen: [UInt32] = []
            while let (number, wire) = try p.nextField() {
                seen.append(number)
                switch number {
                case 1: #expect(try p.readVarint() == 1)
                case 2: #expect(try p.readLengthDelimited().utf8String == "01J2VJR31PT3X4NDJC4Q2BHWQ1")
                case 3: #expect(Int64(bitPattern: try p.readVarint()) == -1)
                case 5:
                    var toc: [UInt64] = []
                    try p.readRepeatedVarint(wire) { toc.append($0) }
                    #expect(toc == [0, 4549, 7747])
                default: try p.skip(wire)
                }
            }
            #expect(seen == [1, 2, 3, 5, 10])
        }
        // -1 as int64 takes ten bytes (segment-object.md §4.3).
        var neg = ByteWriter()
        neg.appendInt64Field(3, -1)
        #expect(neg.count == 11)
    }

    @Test func protobufRejectsGroupsAndFieldZero() {
        for bad: [UInt8] in [[0x03], [0x00, 0x01], [0x0c]] {
            bad.withUnsafeBytes { raw in
                var p = ProtobufReader(raw)
                #expect(throws: DecodeError.self) { _ = try p.nextField() }
            }
        }
    }
}
