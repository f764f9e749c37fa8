import HTTP1
import Testing

@Suite struct HTTP1ResponseParserTests {
    private func parse(_ text: String, method: String = "GET", split: Int? = nil) throws -> [HTTP1ClientResponse] {
        var parser = HTTP1ResponseParser(maxHeadBytes: 1024, maxBodyBytes: 4096)
        var out: [HTTP1ClientResponse] = []
        let bytes = Array(text.utf8)
        let step = split ?? bytes.count
        var i = 0
        while i < bytes.count {
            parser.append(Array(bytes[i..<min(bytes.count, i + step)]))
            while let response = try parser.next(requestMethod: method) { out.append(response) }
            i += step
        }
        if let last = try parser.finish() { out.append(last) }
        return out
    }

    @Test func contentLengthBodyAndKeepAlive() throws {
        let responses = try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\n")
        #expect(responses.count == 2)
        #expect(responses[0].status == 200 && responses[0].reason == "OK" && responses[0].body == Array("hello".utf8))
        #expect(responses[0].header("etag") == "\"x\"" && responses[0].keepAlive)
        #expect(responses[1].status == 204 && responses[1].body.isEmpty)
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n"
        for split in [1, 3, 7, 1000] {
            let responses = try parse(text, split: split)
            #expect(responses.count == 1)
            #expect(responses.first?.body == Array("hello, world!!!".utf8), "split \(split)")
        }
    }

    @Test func bodyUntilCloseAndConnectionClose() throws {
        let responses = try parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", split: 2)
        #expect(responses.count == 1 && responses[0].body == Array("abc".utf8) && !responses[0].keepAlive)
        let http10 = try parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(http10.count == 1 && !http10[0].keepAlive)
    }

    @Test func headResponseHasNoBodyDespiteContentLength() throws {
        let responses = try parse("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", method: "HEAD")
        #expect(responses.count == 1 && responses[0].body.isEmpty && responses[0].header("content-length") == "1234")
    }

    @Test func interimResponsesAreSkipped() throws {
        let responses = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(responses.count == 1 && responses[0].status == 200)
    }

    @Test(arguments: [
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "garbage\r\n\r\n",
        "HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
        "HTTP/1.1 200 OK\r\n : x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n",  // over maxBodyBytes
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n",  // chunk over maxBodyBytes
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n",  // data not followed by CRLF
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  // closed mid-body
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",  // closed mid-chunk
        "HTTP/1.1 200 OK\r\nContent-Le",  // closed mid-head
    ])
    func malformedOrTruncatedInputIsRejected(_ text: String) {
        #expect(throws: HTTP1ResponseParseError.self) { try parse(text) }
    }

    @Test func oversizedHeadAndLinesAreRejected() {
        let longHeader = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 2000) + "\r\n\r\n"
        #expect(throws: HTTP1ResponseParseError.self) { try parse(longHeader) }
        let longChunkLine = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 5000)
        #expect(throws: HTTP1ResponseParseError.self) { try parse(longChunkLine, split: 100) }
    }

    @Test func everyTruncationOfAChunkedResponseIsIncompleteNotWrong() throws {
        let bytes = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".utf8)
        for cut in 0..<bytes.count {
            var parser = HTTP1ResponseParser()
            parser.append(Array(bytes[..<cut]))
            #expect(try parser.next(requestMethod: "GET") == nil, "cut at \(cut)")
        }
    }

    @Test func requestWriterAddsContentLength() {
        let put = HTTP1ClientRequest(method: "PUT", target: "/b/k", headers: [("Host", "h")], body: Array("xy".utf8))
        #expect(String(decoding: put.serialize(), as: UTF8.self) == "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy")
        let get = HTTP1ClientRequest(method: "GET", target: "/b?list-type=2", headers: [("Host", "h")])
        #expect(String(decoding: get.serialize(), as: UTF8.self) == "GET /b?list-type=2 HTTP/1.1\r\nHost: h\r\n\r\n")
    }
}

@Suite struct HTTP1ResponseParserMutationTests {
    /// Thousands of random byte flips, insertions and cuts of valid responses: each either parses
    /// or throws, never traps or hangs, and no body exceeds the limit.
    @Test func randomMutationsParseOrThrow() {
        let valid = [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: 1\r\n\r\n",
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 20\r\nConnection: keep-alive\r\n\r\n<Error>x</Error>....",
        ].map { Array($0.utf8) }
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for round in 0..<5000 {
            var bytes = valid[round % valid.count]
            for _ in 0...next(4) {
                switch next(3) {
                case 0: bytes[next(bytes.count)] = UInt8(next(256))
                case 1: bytes.insert(UInt8(next(256)), at: next(bytes.count))
                default: bytes.removeSubrange(next(bytes.count)...)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            var parser = HTTP1ResponseParser(maxHeadBytes: 256, maxBodyBytes: 64)
            parser.append(bytes)
            do {
                while let response = try parser.next(requestMethod: "GET") {
                    #expect(response.body.count <= 64)
                }
                _ = try parser.finish()
            } catch {
                // A typed rejection is the expected outcome for most mutations.
            }
        }
    }
}
