import HTTP1
import Testing

@Suite struct HTTP1RequestParserTests {
    private func feed(_ parser: inout HTTP1RequestParser, _ text: String) {
        Array(text.utf8).withUnsafeBytes { parser.append($0) }
    }

    @Test func parsesPipelinedRequestsFedByteByByte() throws {
        var parser = HTTP1RequestParser()
        let wire = "GET /ready HTTP/1.1\r\nHost: x\r\n\r\nPOST /x?y=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /metrics HTTP/1.0\r\n\r\n"
        var requests: [HTTP1Request] = []
        var awaitedBody: [UInt8] = []
        for byte in wire.utf8 {
            [byte].withUnsafeBytes { parser.append($0) }
            while let r = try parser.next() { requests.append(r) }
            #expect(try parser.next() == nil, "asked again with nothing new")
            if parser.hasPendingHead { awaitedBody.append(byte) }
        }
        #expect(try parser.next() == nil, "asked again with nothing new")
        // From the head's last byte until the body's last: only POST's body was ever awaited.
        #expect(awaitedBody == Array("\nab".utf8), "the head is whole while only the body is awaited")
        #expect(requests.map(\.method) == ["GET", "POST", "GET"])
        #expect(requests.map { String($0.path) } == ["/ready", "/x", "/metrics"])
        #expect(requests[1].body == Array("abc".utf8))
        #expect(requests[0].header("HOST") == "x")
        #expect(requests[0].keepAlive)
        #expect(!requests[2].keepAlive)
    }

    /// Requests pipelined in one read, the last one cut: each is taken in turn, the cut one's
    /// bytes stay (and only they count as buffered) until the rest arrives.
    @Test func takesPipelinedRequestsFromOneRead() throws {
        var parser = HTTP1RequestParser()
        feed(&parser, String(repeating: "GET /ready HTTP/1.1\r\n\r\n", count: 50) + "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
        var taken = 0
        while let r = try parser.next() {
            #expect(r.method == "GET")
            taken += 1
        }
        #expect(taken == 50)
        #expect(parser.hasPendingHead && parser.bufferedByteCount == "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab".utf8.count)
        feed(&parser, "cdGET /metrics HTTP/1.1\r\n\r\n")
        #expect(try parser.next()?.body == Array("abcd".utf8))
        #expect(try parser.next()?.path == "/metrics")
        #expect(try parser.next() == nil && parser.bufferedByteCount == 0 && !parser.hasPendingHead)
    }

    @Test func refusesOversizedAndMalformedInput() {
        var big = HTTP1RequestParser(maxHeadBytes: 64)
        feed(&big, "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 100))
        #expect(throws: HTTP1ParseError(status: 431, reason: "request header fields too large")) { try big.next() }

        var body = HTTP1RequestParser(maxBodyBytes: 10)
        feed(&body, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n")
        #expect(throws: HTTP1ParseError(status: 413, reason: "request body too large")) { try body.next() }

        for bad in ["GARBAGE\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                    "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"] {
            var p = HTTP1RequestParser()
            feed(&p, bad)
            #expect(throws: HTTP1ParseError.self) { try p.next() }
        }
        var chunked = HTTP1RequestParser()
        feed(&chunked, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(throws: HTTP1ParseError(status: 411, reason: "chunked request bodies are not accepted")) { try chunked.next() }
    }

    @Test func responseCarriesLengthAndConnectionClose() {
        let bytes = HTTP1Response(status: 503, text: "not ready").serialize(keepAlive: false)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(text.contains("Content-Length: 9\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\nnot ready"))
    }
}
