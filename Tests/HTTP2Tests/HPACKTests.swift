import BinaryCoding
import Testing
@testable import HTTP2
import TestSupport

/// RFC 7541 Appendix C: every example decoded and re-encoded byte for byte.
@Suite struct HPACKTests {
    struct Vector {
        let hex: String
        let fields: [HeaderField]
        let tableSize: Int
    }

    static let requests: [(String, [(String, String)])] = [
        ("C.1", [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]),
        ("C.2", [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")]),
        ("C.3", [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")]),
    ]
    static let responses: [[(String, String)]] = [
        [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
        [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
        [(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
         ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
    ]

    static let c3 = ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
                     "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]
    static let c4 = ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
                     "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]
    static let c5 = ["4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                     "4803333037c1c0bf",
                     "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31"]
    static let c6 = ["488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
                     "4883640effc1c0bf",
                     "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"]

    func decode(_ d: inout HPACKDecoder, _ h: String) throws -> [HeaderField] {
        try #require(try decodeBlock(&d, hexBytes(h)))
    }

    /// C.3 (plain) and C.4 (Huffman): three requests sharing one table of 4096 bytes.
    @Test(arguments: [false, true])
    func requestExamples(huffman: Bool) throws {
        let blocks = huffman ? Self.c4 : Self.c3
        var decoder = HPACKDecoder()
        var encoder = HPACKEncoder(huffman: huffman ? .always : .never)
        for (i, (_, pairs)) in Self.requests.enumerated() {
            #expect(try decode(&decoder, blocks[i]) == fields(pairs))
            var w = ByteWriter()
            encoder.encode(fields(pairs), into: &w)
            #expect(hexString(w.bytes) == blocks[i])
            #expect(decoder.dynamicTableSize == [57, 110, 164][i])
            #expect(encoder.dynamicTableSize == decoder.dynamicTableSize)
        }
        #expect(decoder.dynamicTableEntries == fields([("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")]))
    }

    /// C.5 (plain) and C.6 (Huffman): responses with a 256-byte table, so entries are evicted.
    @Test(arguments: [false, true])
    func responseExamples(huffman: Bool) throws {
        let blocks = huffman ? Self.c6 : Self.c5
        var decoder = HPACKDecoder(maxTableSize: 256)
        var encoder = HPACKEncoder(maxTableSize: 256, huffman: huffman ? .always : .never)
        for (i, pairs) in Self.responses.enumerated() {
            #expect(try decode(&decoder, blocks[i]) == fields(pairs))
            var w = ByteWriter()
            encoder.encode(fields(pairs), into: &w)
            #expect(hexString(w.bytes) == blocks[i])
            #expect(decoder.dynamicTableSize == [222, 222, 215][i])
        }
        #expect(decoder.dynamicTableEntries == fields([
            ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
            ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ]))
    }

    /// C.2.1–C.2.4: one representation each, each on a fresh table.
    @Test func literalRepresentations() throws {
        let cases: [(String, HeaderField, HPACKEncoder.Indexing, Int)] = [
            ("400a637573746f6d2d6b65790d637573746f6d2d686561646572", HeaderField("custom-key", "custom-header"), .incremental, 55),
            ("040c2f73616d706c652f70617468", HeaderField(":path", "/sample/path"), .none, 0),
            ("100870617373776f726406736563726574", HeaderField("password", "secret"), .never, 0),
            ("82", HeaderField(":method", "GET"), .incremental, 0),
        ]
        for (h, field, indexing, size) in cases {
            var decoder = HPACKDecoder()
            #expect(try decode(&decoder, h) == [field])
            #expect(decoder.dynamicTableSize == size)
            var encoder = HPACKEncoder(huffman: .never)
            var w = ByteWriter()
            encoder.encode(field, indexing: indexing, into: &w)
            #expect(hexString(w.bytes) == h)
        }
    }

    /// C.1: integer representation.
    @Test func integers() throws {
        var w = ByteWriter()
        HPACKPrimitive.appendInteger(10, prefixBits: 5, firstByte: 0, into: &w)
        HPACKPrimitive.appendInteger(1337, prefixBits: 5, firstByte: 0, into: &w)
        HPACKPrimitive.appendInteger(42, prefixBits: 8, firstByte: 0, into: &w)
        #expect(w.bytes == [0x0a, 0x1f, 0x9a, 0x0a, 0x2a])
        let raw = RawBytes(w.bytes)
        defer { withExtendedLifetime(raw) {} }
        var r = ByteReader(raw.view)
        #expect(try HPACKPrimitive.readInteger(&r, prefixBits: 5) == 10)
        #expect(try HPACKPrimitive.readInteger(&r, prefixBits: 5) == 1337)
        #expect(try HPACKPrimitive.readInteger(&r, prefixBits: 8) == 42)
    }

    @Test func huffmanRoundTripsEveryByte() throws {
        let all = ByteString((0...255).map { UInt8($0) } + Array("www.example.com".utf8))
        var w = ByteWriter()
        HPACKPrimitive.appendString(all, huffman: true, into: &w)
        let raw = RawBytes(w.bytes)
        defer { withExtendedLifetime(raw) {} }
        var r = ByteReader(raw.view)
        #expect(try HPACKPrimitive.readString(&r, limit: 10_000) == all)
        #expect(r.isAtEnd)
    }

    @Test func tableSizeUpdateIsEmittedAndHonoured() throws {
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder()
        var first = ByteWriter()
        encoder.encode(fields([("custom-key", "custom-value")]), into: &first)
        encoder.setPeerMaxTableSize(0)
        encoder.setPeerMaxTableSize(100)
        var second = ByteWriter()
        encoder.encode(fields([("custom-key", "custom-value")]), into: &second)
        // §4.2: the smallest size (0) then the final one (100) open the next block.
        #expect(Array(second.bytes.prefix(3)) == [0x20, 0x3f, 0x45])
        _ = try decodeBlock(&decoder, first.bytes)
        let decoded = try decodeBlock(&decoder, second.bytes)
        #expect(decoded == fields([("custom-key", "custom-value")]))
        #expect(decoder.dynamicTableSize == 32 + 10 + 12)
    }

    /// Garbage never traps: every case is a COMPRESSION_ERROR.
    @Test(arguments: [
        "80",                 // index 0
        "be",                 // index 62 with an empty dynamic table
        "ff8080808080808001", // integer overflow
        "3f80808080808080808001", // size update whose 2^63 term would wrap negative
        "3f808080808000",     // 2^28 bound: six continuation bytes, even zero ones
        "410f7777",           // string longer than the block
        "4185f1e3c2e5ff",     // Huffman: EOS inside (30 ones)
        "418cf1e3c2e5f23a6ba0ab90f4fe", // Huffman padding not all ones
        "3fe21f",             // size update above the 4096 limit
        "8220",               // size update after a field
        "40",                 // truncated literal
    ])
    func garbageIsCompressionError(_ h: String) {
        var decoder = HPACKDecoder()
        do {
            _ = try decodeBlock(&decoder, hexBytes(h))
            Issue.record("decoded garbage \(h)")
        } catch {
            guard case .connection(let code, _) = error else { Issue.record("not a connection error"); return }
            #expect(code == .compressionError)
        }
    }

    @Test func headerListSizeLimitReturnsNilButKeepsTable() throws {
        var decoder = HPACKDecoder(maxTableSize: 4096, maxHeaderListSize: 60)
        let result = try decodeBlock(&decoder, hexBytes(Self.c3[0]))
        #expect(result == nil)
        #expect(decoder.dynamicTableSize == 57)
    }
}
