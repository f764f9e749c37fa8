import BinaryCoding
import Testing
@testable import GRPC
@testable import HTTP2
import TestSupport

@Suite struct GRPCUnaryTests {
    /// ingest-and-ops.md §1.7 and §7 check 1 (transport half): the request bytes grpc-go
    /// sends, the server's view of them, and the success response's exact shape.
    @Test(arguments: [Int.max, 7])
    func unaryPushMatchesTheSpecExample(chunk: Int) throws {
        #expect(SpecExample.pprof.count == 78)
        #expect(SpecExample.pushRequest.count == 246)
        let pair = GRPCPair()
        let call = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        #expect(call?.stream == StreamID(1))
        var serverSaw: [String] = []
        var received: [UInt8] = []
        pair.run(chunk: chunk, server: { event, out in
            switch event {
            case .call(let c, let method, let metadata, let timeout):
                serverSaw.append("call \(c.stream) \(method) \(timeout == nil)")
                #expect(metadata.first(named: "te") == "trailers")
            case .message(let c, let m):
                if case .view = m { serverSaw.append("view") }
                received = m.bytes
                [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
            case .halfClosed(let c): serverSaw.append("halfClosed \(c.stream)")
            default: serverSaw.append("\(event)")
            }
        })
        #expect(serverSaw == ["call 1 0 true", "view"])
        #expect(received == SpecExample.pushRequest)
        #expect(pair.clientEvents == ["ready", "headers 1", "message 1 0", "finished 1 ok "])

        // The client's DATA frame: `00 000000f6` + the 246 bytes, END_STREAM.
        let clientFrames = splitFrames(Array(pair.clientWire[HTTP2Connection.preface.count...]))
        let data = try #require(clientFrames.first { $0.0.type == .data })
        #expect(data.1 == hexBytes("00000000f6") + SpecExample.pushRequest)
        #expect(data.0.flags == FrameFlags.endStream && data.0.streamID == StreamID(1))
        // The request headers, as grpc-go sends them (§1.6).
        let request = try headerBlocks(pair.clientWire)
        #expect(request.count == 1)
        #expect(request[0].1 == fields([
            (":method", "POST"), (":scheme", "http"), (":path", "/segmentwriter.v1.SegmentWriterService/Push"),
            (":authority", "segment-writer:9095"), ("content-type", "application/grpc"), ("user-agent", "grpc-go/1.82.1"),
            ("te", "trailers"), ("grpc-accept-encoding", "gzip,snappy"),
        ]))
        // The response: HEADERS, DATA `00 00000000`, trailers `grpc-status: 0`.
        let response = try headerBlocks(pair.serverWire)
        #expect(response.map(\.1) == [fields([(":status", "200"), ("content-type", "application/grpc")]), fields([("grpc-status", "0")])])
        #expect(response.map(\.endStream) == [false, true])
        let serverData = splitFrames(pair.serverWire).filter { $0.0.type == .data && $0.0.streamID == StreamID(1) }
        #expect(serverData.map(\.1) == [[0, 0, 0, 0, 0]])
    }

    @Test func manyConcurrentCallsInterleave() {
        let pair = GRPCPair(methods: ["/echo.Echo/Say"])
        for i in 0..<20 {
            _ = [UInt8](repeating: UInt8(i), count: 100 + i).withUnsafeBytes {
                pair.client.unary(path: "/echo.Echo/Say", request: $0, into: &pair.toServer)
            }
        }
        var echoed: [UInt32: [UInt8]] = [:]
        pair.run(server: { event, out in
            if case .message(let c, let m) = event { m.withBytes { pair.server.respond(c, message: $0, into: &out) } }
        }, client: { event, _ in
            if case .message(let c, let m) = event { echoed[c.stream.rawValue] = m.bytes }
        })
        #expect(echoed.count == 20)
        for i in 0..<20 { #expect(echoed[UInt32(2 * i + 1)] == [UInt8](repeating: UInt8(i), count: 100 + i)) }
        #expect(pair.server.activeCallCount == 0 && pair.client.activeCallCount == 0)
        #expect(pair.server.http2.activeStreamCount == 0 && pair.client.http2.activeStreamCount == 0)
    }

    /// A message far larger than every window: many DATA frames, WINDOW_UPDATEs both ways,
    /// the server gets one owned copy, the client gets the echoed response.
    @Test func largeMessageFlowsThroughWindowUpdates() throws {
        let pair = GRPCPair(methods: ["/echo.Echo/Say"])
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        _ = big.withUnsafeBytes { pair.client.unary(path: "/echo.Echo/Say", request: $0, into: &pair.toServer) }
        var serverGot: [UInt8] = []
        var ownedOnServer = false
        var clientGot: [UInt8] = []
        pair.run(chunk: 100_000, server: { event, out in
            if case .message(let c, let m) = event {
                if case .owned = m { ownedOnServer = true }
                serverGot = m.bytes
                m.withBytes { pair.server.respond(c, message: $0, into: &out) }
            }
        }, client: { event, _ in
            if case .message(_, let m) = event { clientGot = m.bytes }
        })
        #expect(ownedOnServer)
        #expect(serverGot == big)
        #expect(clientGot == big)
        #expect(pair.clientEvents.last == "finished 1 ok ")
        let serverUpdates = splitFrames(pair.serverWire).filter { $0.0.type == .windowUpdate }
        let clientUpdates = splitFrames(Array(pair.clientWire[HTTP2Connection.preface.count...])).filter { $0.0.type == .windowUpdate }
        #expect(serverUpdates.count >= 3)
        #expect(clientUpdates.count >= 3)
        let dataFrames = splitFrames(Array(pair.clientWire[HTTP2Connection.preface.count...])).filter { $0.0.type == .data }
        #expect(dataFrames.allSatisfy { $0.0.length <= 16_384 })
        #expect(dataFrames.count >= (3 << 20) / 16_384)
    }

    @Test func gzipCompressedRequestIsDecompressed() {
        let pair = GRPCPair()
        _ = SpecExample.pushRequest.withUnsafeBytes {
            pair.client.unary(path: SpecExample.pushPath, request: $0, gzip: true, into: &pair.toServer)
        }
        var got: [UInt8] = []
        pair.run(server: { event, out in
            if case .message(let c, let m) = event {
                got = m.bytes
                [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
            }
        })
        #expect(got == SpecExample.pushRequest)
        let data = splitFrames(Array(pair.clientWire[HTTP2Connection.preface.count...])).first { $0.0.type == .data }!
        #expect(data.1[0] == 1 && Array(data.1[5..<8]) == [0x1f, 0x8b, 0x08])
        #expect(pair.clientEvents.last == "finished 1 ok ")
    }

    @Test func decompressionIsBounded() {
        let pair = GRPCPair { $0.maxDecompressedMessageBytes = 1_000 }
        var failed: GRPCStatus?
        _ = [UInt8](repeating: 0, count: 5_000).withUnsafeBytes {
            pair.client.unary(path: SpecExample.pushPath, request: $0, gzip: true, into: &pair.toServer)
        }
        pair.run(server: { event, _ in if case .failed(_, let s) = event { failed = s } })
        #expect(failed?.code == .resourceExhausted)
        #expect(pair.clientEvents.last?.hasPrefix("finished 1 resourceExhausted") == true)
    }

    @Test func oversizedMessageIsResourceExhausted() {
        let pair = GRPCPair { $0.maxReceiveMessageBytes = 100 }
        _ = [UInt8](repeating: 1, count: 101).withUnsafeBytes {
            pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer)
        }
        pair.run()
        #expect(pair.clientEvents.last == "finished 1 resourceExhausted grpc: received message larger than max (101 vs. 100)")
    }

    @Test func unknownMethodsAreUnimplemented() {
        let pair = GRPCPair()
        for path in ["/segmentwriter.v1.SegmentWriterService/Flush", "/other.Service/Push", "nonsense"] {
            _ = [UInt8]().withUnsafeBytes { pair.client.unary(path: ByteString(path), request: $0, into: &pair.toServer) }
        }
        var serverEvents = 0
        pair.run(server: { _, _ in serverEvents += 1 })
        #expect(serverEvents == 0)
        #expect(pair.clientEvents == [
            "ready",
            "finished 1 unimplemented unknown method Flush for service segmentwriter.v1.SegmentWriterService",
            "finished 3 unimplemented unknown service other.Service",
            "finished 5 unimplemented malformed method name: \"nonsense\"",
        ])
        // Trailers-only: one HEADERS frame with END_STREAM per call.
        let blocks = try? headerBlocks(pair.serverWire)
        #expect(blocks?.allSatisfy { $0.endStream && $0.1.first(named: ":status") == "200" } == true)
    }

    /// §1.3: an error before any response is a trailers-only response, message percent-encoded.
    @Test func errorStatusIsTrailersOnlyAndPercentEncoded() throws {
        let pair = GRPCPair()
        _ = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        var finished: GRPCStatus?
        pair.run(server: { event, out in
            if case .message(let c, _) = event {
                pair.server.finish(c, status: GRPCStatus(.invalidArgument, "invalid UUID (got 15 bytes) 100%\n"), into: &out)
            }
        }, client: { event, _ in
            if case .finished(_, let s, _) = event { finished = s }
        })
        #expect(finished == GRPCStatus(.invalidArgument, "invalid UUID (got 15 bytes) 100%\n"))
        let blocks = try headerBlocks(pair.serverWire)
        #expect(blocks.count == 1)
        #expect(blocks[0].1.first(named: "grpc-status") == "3")
        #expect(blocks[0].1.first(named: "grpc-message") == "invalid UUID (got 15 bytes) 100%25%0A")
    }

    /// grpc-go's client fails a unary call whose OK status comes without the response message
    /// (trailers-only OK): ours reports it the same way, so a server that forgets the message
    /// is caught by every test that pushes through our client.
    @Test(arguments: [false, true])
    func unaryOKWithoutResponseMessageIsACardinalityViolation(sendsMessage: Bool) {
        let pair = GRPCPair()
        _ = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        var finished: GRPCStatus?
        pair.run(server: { event, out in
            guard case .message(let c, _) = event else { return }
            if sendsMessage {
                [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
            } else {
                pair.server.finish(c, status: .ok, into: &out)
            }
        }, client: { event, _ in
            if case .finished(_, let s, _) = event { finished = s }
        })
        #expect(finished == (sendsMessage ? .ok : GRPCStatus(.internalError,
                                                             "cardinality violation: received no response message from non-server-streaming RPC")))
    }

    @Test func clientResetMidMessageCancelsTheCall() {
        let pair = GRPCPair()
        let call = pair.client.startCall(path: SpecExample.pushPath, into: &pair.toServer)!
        // A prefix announcing 1000 bytes, then only 10 of them.
        ([0, 0, 0, 3, 0xe8] + [UInt8](repeating: 9, count: 10)).withUnsafeBytes {
            pair.client.http2.sendData($0, on: call.stream, endStream: false, into: &pair.toServer)
        }
        var events: [String] = []
        pair.run(server: { event, _ in
            switch event {
            case .call: events.append("call")
            case .message: events.append("message")
            case .cancelled(let c, let code): events.append("cancelled \(c.stream) \(code)")
            default: events.append("other")
            }
        })
        pair.client.cancel(call, into: &pair.toServer)
        pair.run(server: { event, _ in
            if case .cancelled(let c, let code) = event { events.append("cancelled \(c.stream) \(code)") }
        })
        #expect(events == ["call", "cancelled 1 CANCEL"])
        #expect(pair.server.activeCallCount == 0)
    }

    @Test func requestEndingInsideAMessageIsInternal() {
        let pair = GRPCPair()
        let call = pair.client.startCall(path: SpecExample.pushPath, into: &pair.toServer)!
        [UInt8]([0, 0, 0, 0, 9, 1, 2]).withUnsafeBytes {
            pair.client.http2.sendData($0, on: call.stream, endStream: true, into: &pair.toServer)
        }
        var failed: GRPCStatus?
        pair.run(server: { event, _ in if case .failed(_, let s) = event { failed = s } })
        #expect(failed?.code == .internalError)
        #expect(pair.clientEvents.last?.hasPrefix("finished 1 internalError") == true)
    }

    /// Request trailers end the stream too: inside a message, the call fails as it does when
    /// END_STREAM comes on DATA, instead of the partial message vanishing.
    @Test func requestTrailersInsideAMessageAreInternal() {
        let pair = GRPCPair()
        let call = pair.client.startCall(path: SpecExample.pushPath, into: &pair.toServer)!
        [UInt8]([0, 0, 0, 0, 9, 1, 2]).withUnsafeBytes {
            pair.client.http2.sendData($0, on: call.stream, endStream: false, into: &pair.toServer)
        }
        pair.client.http2.sendHeaders(fields([("x-checksum", "1")]), on: call.stream, endStream: true, into: &pair.toServer)
        var events: [String] = []
        pair.run(server: { event, _ in
            switch event {
            case .call: events.append("call")
            case .failed(let c, let s): events.append("failed \(c.stream) \(s.code) \(s.message)")
            default: events.append("\(event)")
            }
        })
        #expect(events == ["call", "failed 1 internalError grpc: request stream ended inside a message"])
        #expect(pair.clientEvents.last == "finished 1 internalError grpc: request stream ended inside a message")
        #expect(pair.server.activeCallCount == 0)
    }

    @Test func timeoutHeaderReachesTheApplication() {
        let pair = GRPCPair()
        _ = [UInt8]().withUnsafeBytes {
            pair.client.unary(path: SpecExample.pushPath, request: $0, timeoutNs: 100_000_000, into: &pair.toServer)
        }
        var timeout: UInt64?
        pair.run(server: { event, _ in if case .call(_, _, _, let t) = event { timeout = t } })
        #expect(timeout == 100_000_000)
        #expect(try! headerBlocks(pair.clientWire)[0].1.first(named: "grpc-timeout") == "100000u")
    }

    /// grpc-go accepts `application/grpc` alone or followed by `+` or `;`; anything else is 415.
    @Test(arguments: [("application/grpc", true), ("application/grpc+proto", true), ("application/grpc;charset=utf-8", true),
                      ("application/grpcfoo", false), ("application/grp", false), ("text/plain", false)])
    func contentTypeIsCheckedAsGrpcGoDoes(contentType: String, accepted: Bool) throws {
        let pair = GRPCPair()
        let request = fields([(":method", "POST"), (":scheme", "http"), (":path", SpecExample.pushPath.description),
                              (":authority", "x"), ("content-type", contentType)])
        _ = pair.client.http2.openStream(request, endStream: true, into: &pair.toServer)
        var called = false
        pair.run(server: { event, _ in if case .call = event { called = true } })
        #expect(called == accepted)
        let answer = try headerBlocks(pair.serverWire).last
        #expect(answer?.1.first(named: ":status") == (accepted ? nil : "415"))
    }

    /// grpc-go answers a `grpc-timeout` it cannot read with HTTP 400 and INTERNAL, not a call.
    @Test func malformedTimeoutIsABadRequest() throws {
        let pair = GRPCPair()
        let request = fields([(":method", "POST"), (":scheme", "http"), (":path", SpecExample.pushPath.description),
                              (":authority", "x"), ("content-type", "application/grpc"), ("grpc-timeout", "tomorrow")])
        _ = pair.client.http2.openStream(request, endStream: true, into: &pair.toServer)
        var called = false
        pair.run(server: { event, _ in if case .call = event { called = true } })
        #expect(!called)
        let answer = try #require(try headerBlocks(pair.serverWire).last)
        #expect(answer.1.first(named: ":status") == "400")
        #expect(answer.1.first(named: "grpc-status") == "13")
        #expect(answer.1.first(named: "grpc-message")?.description.hasPrefix("malformed grpc-timeout") == true)
    }

    @Test func unsupportedEncodingIsRejected() throws {
        let pair = GRPCPair()
        _ = pair.client.startCall(path: SpecExample.pushPath, metadata: fields([("grpc-encoding", "zstd")]), into: &pair.toServer)
        pair.run()
        #expect(pair.clientEvents.last?.hasPrefix("finished 1 unimplemented grpc: Decompressor is not installed") == true)
    }

    @Test func healthCheckAnswersServing() throws {
        let pair = GRPCPair(methods: [GRPCHealth.checkPath])
        var request = ByteWriter()
        request.appendBytesField(1, Array("pyroscope.segment-writer".utf8))
        _ = request.bytes.withUnsafeBytes { pair.client.unary(path: GRPCHealth.checkPath, request: $0, into: &pair.toServer) }
        var asked: ByteString?
        var answer: GRPCHealth.ServingStatus?
        pair.run(server: { event, out in
            if case .message(let c, let m) = event {
                asked = m.withBytes { try? GRPCHealth.decodeRequest($0) }
                var w = ByteWriter()
                GRPCHealth.appendResponse(.serving, into: &w)
                #expect(w.bytes == [0x08, 0x01])
                w.bytes.withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
            }
        }, client: { event, _ in
            if case .message(_, let m) = event { answer = m.withBytes { try? GRPCHealth.decodeResponse($0) } }
        })
        #expect(asked == "pyroscope.segment-writer")
        #expect(answer == .serving)
    }

    @Test func gracefulGoAwayFinishesInFlightCalls() {
        let pair = GRPCPair()
        _ = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        var pending: CallID?
        pair.run(server: { event, _ in if case .message(let c, _) = event { pending = c } })
        pair.server.goAway(into: &pair.toClient)
        [UInt8]().withUnsafeBytes { pair.server.respond(pending!, message: $0, into: &pair.toClient) }
        pair.run()
        #expect(pair.clientEvents.suffix(4) == ["goaway 1 NO_ERROR", "headers 1", "message 1 0", "finished 1 ok "])
        #expect(pair.server.http2.isDrained)
    }
}

@Suite struct GRPCPrimitiveTests {
    @Test func timeoutParsing() {
        #expect(GRPCTimeout.parse("100m") == 100_000_000)
        #expect(GRPCTimeout.parse("1H") == 3_600_000_000_000)
        #expect(GRPCTimeout.parse("5S") == 5_000_000_000)
        #expect(GRPCTimeout.parse("2M") == 120_000_000_000)
        #expect(GRPCTimeout.parse("7u") == 7_000)
        #expect(GRPCTimeout.parse("99999999n") == 99_999_999)
        #expect(GRPCTimeout.parse("99999999H") == UInt64.max)  // saturates
        for bad in ["", "m", "123456789m", "10x", "-1m", "1.5S", " 1S"] {
            #expect(GRPCTimeout.parse(ByteString(bad)) == nil, "\(bad)")
        }
        #expect(GRPCTimeout.deadline(nowNs: 5, timeoutNs: 10) == 15)
        #expect(GRPCTimeout.deadline(nowNs: .max - 1, timeoutNs: 10) == .max)
    }

    @Test func timeoutEncodingRoundTrips() {
        #expect(GRPCTimeout.encode(nanoseconds: 0) == "0n")
        #expect(GRPCTimeout.encode(nanoseconds: 5_000_000_000) == "5000000u")
        #expect(GRPCTimeout.encode(nanoseconds: 3_600_000_000_000 * 30) == "108000S")
        for ns: UInt64 in [1, 999, 100_000_000, 5_000_000_000, 7_200_000_000_000_000] {
            let parsed = GRPCTimeout.parse(GRPCTimeout.encode(nanoseconds: ns))!
            #expect(parsed >= ns && parsed - ns < max(ns / 10_000_000, 1_000))
        }
    }

    @Test func percentEncoding() {
        let raw: ByteString = ByteString(Array("héllo 100%\r\n".utf8))
        let encoded = GRPCPercentEncoding.encode(raw)
        #expect(encoded == "h%C3%A9llo 100%25%0D%0A")
        #expect(GRPCPercentEncoding.decode(encoded) == raw)
        #expect(GRPCPercentEncoding.decode("50% off %zz %4") == "50% off %zz %4")
    }

    @Test func gzipMultiMemberAndCorruptInput() throws {
        let codec = GzipCodec()
        #expect(codec.holdsCodecs == (false, false), "allocated on first use")
        var compressed: [UInt8] = []
        Array("hello ".utf8).withUnsafeBytes { codec.compress($0, into: &compressed) }
        #expect(codec.holdsCodecs == (true, false))
        Array("world".utf8).withUnsafeBytes { codec.compress($0, into: &compressed) }
        func gunzip(_ bytes: [UInt8], limit: Int) -> Result<[UInt8], DecompressionFailure> {
            let raw = RawBytes(bytes)
            defer { withExtendedLifetime(raw) {} }
            do { return .success(try codec.decompress(raw.view, limit: limit)) } catch { return .failure(error) }
        }
        #expect(try gunzip(compressed, limit: 100).get() == Array("hello world".utf8))
        #expect(codec.holdsCodecs == (true, true))
        var corrupt = compressed
        corrupt[12] ^= 0xff
        #expect(throws: DecompressionFailure.corrupt) { try gunzip(corrupt, limit: 100).get() }
        #expect(throws: DecompressionFailure.exceedsLimit(5)) { try gunzip(compressed, limit: 5).get() }
    }

    @Test func statusCodesMatchTheSpec() {
        #expect(GRPCStatusCode.unavailable.rawValue == 14 && GRPCStatusCode.resourceExhausted.rawValue == 8)
        #expect(GRPCStatusCode.unimplemented.headerValue == "12")
        #expect(GRPCClientConnection.parseCode("0") == .ok)
        #expect(GRPCClientConnection.parseCode("99") == .unknown)
        #expect(GRPCClientConnection.parseCode("x") == nil)
    }
}

@Suite struct GRPCClientTests {
    /// RFC 9113 §6.8: calls above the GOAWAY's last stream id end UNAVAILABLE (retryable).
    @Test func callsAboveGoAwayLastStreamEndUnavailable() {
        let pair = GRPCPair()
        _ = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        var first: CallID?
        pair.run(server: { event, _ in if case .message(let c, _) = event { first = c } })
        // The server starts draining; a second call crosses the GOAWAY on the wire.
        pair.server.goAway(into: &pair.toClient)
        _ = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        pair.run()
        [UInt8]().withUnsafeBytes { pair.server.respond(first!, message: $0, into: &pair.toClient) }
        pair.run()
        #expect(pair.clientEvents.contains("finished 3 unavailable the connection is draining"))
        #expect(pair.clientEvents.last == "finished 1 ok ")
        #expect(pair.client.activeCallCount == 0)
        #expect(pair.client.http2.isDrained && pair.server.http2.isDrained)
    }

    @Test func nonOKHTTPStatusMapsToGRPCStatus() {
        #expect(GRPCClientConnection.status(forHTTP: "404").code == .unimplemented)
        #expect(GRPCClientConnection.status(forHTTP: "503").code == .unavailable)
        #expect(GRPCClientConnection.status(forHTTP: "418").code == .unknown)
        #expect(GRPCClientConnection.status(for: .cancel).code == .cancelled)
        #expect(GRPCClientConnection.status(for: .refusedStream).code == .unavailable)
    }
}

/// dskit's `snappy` encoding: framed stream format (ingest-and-ops.md §1.6, §7 check 6).
@Suite struct SnappyTests {
    /// A framed stream of `chunks` (each a raw snappy block, or stored when `block` is nil).
    static func framed(_ chunks: [(uncompressed: [UInt8], block: [UInt8]?)]) -> [UInt8] {
        var out = SnappyFramed.streamIdentifier
        for (plain, block) in chunks {
            let crc = SnappyFramed.mask(CRC32C.checksum(plain))
            let body = withUnsafeBytes(of: crc.littleEndian) { Array($0) } + (block ?? plain)
            out += [block == nil ? 0x01 : 0x00, UInt8(body.count & 0xff), UInt8(body.count >> 8 & 0xff), UInt8(body.count >> 16)] + body
        }
        return out
    }

    /// Literal "abcd", then a 1-byte-offset copy of 8 bytes at offset 4 (overlapping).
    static let abcdBlock: [UInt8] = [0x0c, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x11, 0x04]

    func decompress(_ bytes: [UInt8], limit: Int = 1 << 20) -> Result<[UInt8], DecompressionFailure> {
        let raw = RawBytes(bytes)
        defer { withExtendedLifetime(raw) {} }
        do { return .success(try SnappyFramed.decompress(raw.view, limit: limit)) } catch { return .failure(error) }
    }

    @Test func decodesCompressedAndStoredChunks() throws {
        let abcd = Array("abcdabcdabcd".utf8)
        let stream = Self.framed([(abcd, Self.abcdBlock), (Array("xyz".utf8), nil)]) + [0xfe, 2, 0, 0, 0, 0]  // + padding
        #expect(try decompress(stream).get() == abcd + Array("xyz".utf8))
    }

    @Test func rejectsBadChecksumMissingIdentifierAndOverLimit() {
        var stream = Self.framed([(Array("abcdabcdabcd".utf8), Self.abcdBlock)])
        #expect(decompress(stream, limit: 11) == .failure(.exceedsLimit(11)))
        stream[stream.count - 1] ^= 1  // corrupt the copy offset
        #expect(decompress(stream) == .failure(.corrupt))
        #expect(decompress(Array(Self.framed([(Array("xyz".utf8), nil)]).dropFirst(10))) == .failure(.corrupt))
        var badCRC = Self.framed([(Array("xyz".utf8), nil)])
        badCRC[14] ^= 0xff
        #expect(decompress(badCRC) == .failure(.corrupt))
        #expect(decompress(SnappyFramed.streamIdentifier + [0x02, 0, 0, 0]) == .failure(.corrupt))  // reserved unskippable
    }

    @Test func serverAcceptsSnappyEncodedRequests() {
        let pair = GRPCPair()
        let call = pair.client.startCall(path: SpecExample.pushPath, metadata: fields([("grpc-encoding", "snappy")]), into: &pair.toServer)!
        // The §1.7 request as one stored chunk, flagged compressed.
        let body = Self.framed([(SpecExample.pushRequest, nil)])
        ([1] + withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + body).withUnsafeBytes {
            pair.client.http2.sendData($0, on: call.stream, endStream: true, into: &pair.toServer)
        }
        var got: [UInt8] = []
        pair.run(server: { event, out in
            if case .message(let c, let m) = event {
                got = m.bytes
                [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
            }
        })
        #expect(got == SpecExample.pushRequest)
        #expect(pair.clientEvents.last == "finished 1 ok ")
    }
}

extension GRPCUnaryTests {
    /// §7 check 7: keepalive pings (grpc-go: every 20 s, even without streams) are answered
    /// and leave calls in flight untouched.
    @Test func keepalivePingsDoNotDisturbCalls() {
        let pair = GRPCPair()
        pair.client.http2.ping(opaque: 42, into: &pair.toServer)
        _ = SpecExample.pushRequest.withUnsafeBytes { pair.client.unary(path: SpecExample.pushPath, request: $0, into: &pair.toServer) }
        var call: CallID?
        pair.run(server: { event, _ in if case .message(let c, _) = event { call = c } })
        pair.client.http2.ping(opaque: 43, into: &pair.toServer)
        pair.run()
        [UInt8]().withUnsafeBytes { pair.server.respond(call!, message: $0, into: &pair.toClient) }
        pair.run()
        let acks = splitFrames(pair.serverWire).filter { $0.0.type == .ping && $0.0.flags == FrameFlags.ack }
        #expect(acks.map { $0.1.last } == [42, 43])
        #expect(pair.clientEvents.last == "finished 1 ok ")
    }
}
