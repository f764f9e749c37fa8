import BinaryCoding
import Testing
@testable import GRPC
@testable import HTTP2
import TestSupport

/// Exhaustive splits and random mutations of a real request stream: the server never traps,
/// never loops, and a stream split anywhere reads exactly like the whole.
@Suite struct RobustnessTests {
    /// What a client sends for the §1.7 Push: preface, SETTINGS, WINDOW_UPDATE, HEADERS, DATA.
    static let requestWire: [UInt8] = {
        let client = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: "segment-writer:9095"))
        var out = ByteWriter()
        client.start(into: &out)
        _ = SpecExample.pushRequest.withUnsafeBytes { client.unary(path: SpecExample.pushPath, request: $0, timeoutNs: 5_000_000_000, into: &out) }
        return out.bytes
    }()

    /// Runs a fresh server over `chunks`, answering each message; returns a transcript.
    static func serve(_ chunks: [[UInt8]], maxMessage: Int = 100 << 20) -> [String] {
        var config = GRPCServerConfiguration(methods: [SpecExample.pushPath])
        config.maxReceiveMessageBytes = maxMessage
        let server = GRPCServerConnection(configuration: config)
        var out = ByteWriter()
        server.start(into: &out)
        var transcript: [String] = []
        for chunk in chunks {
            chunk.withUnsafeBytes { raw in
                var input = raw
                while let event = server.next(&input, into: &out) {
                    switch event {
                    case .call(let c, let m, _, let t): transcript.append("call \(c.stream) \(m) \(t ?? 0)")
                    case .message(let c, let msg):
                        transcript.append("message \(c.stream) \(msg.bytes == SpecExample.pushRequest)")
                        [UInt8]().withUnsafeBytes { server.respond(c, message: $0, into: &out) }
                    case .halfClosed(let c): transcript.append("halfClosed \(c.stream)")
                    case .cancelled(let c, let code): transcript.append("cancelled \(c.stream) \(code)")
                    case .failed(let c, let s): transcript.append("failed \(c.stream) \(s.code)")
                    case .goAway(let last, let code): transcript.append("goaway \(last) \(code)")
                    case .connectionError(let code, _): transcript.append("error \(code)")
                    }
                }
            }
        }
        return transcript
    }

    @Test func everySplitPointReadsLikeTheWhole() {
        let wire = Self.requestWire
        let whole = Self.serve([wire])
        #expect(whole == ["call 1 0 5000000000", "message 1 true"])
        for split in 0...wire.count {
            #expect(Self.serve([Array(wire[..<split]), Array(wire[split...])]) == whole, "split at \(split)")
        }
    }

    @Test func byteAtATimeReadsLikeTheWhole() {
        let wire = Self.requestWire
        #expect(Self.serve(wire.map { [$0] }) == Self.serve([wire]))
    }

    @Test func randomMutationsNeverTrap() {
        var rng = SplitMix64(seed: 0x5eed)
        let wire = Self.requestWire
        for _ in 0..<3_000 {
            var bytes = wire
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                case 1: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                default: bytes.removeSubrange(i...)
                }
                if bytes.isEmpty { break }
            }
            // Random chunking too, so mutations meet the frame buffer.
            var chunks: [[UInt8]] = []
            var start = 0
            while start < bytes.count {
                let n = 1 + Int(rng.next() % 64)
                chunks.append(Array(bytes[start..<min(bytes.count, start + n)]))
                start += n
            }
            _ = Self.serve(chunks, maxMessage: 1 << 16)
        }
    }

    @Test func headerListAboveTheLimitResetsOnlyThatStream() {
        var config = HTTP2Configuration.server
        config.settings.maxHeaderListSize = 200
        let conn = HTTP2Connection(role: .server, configuration: config)
        var out = ByteWriter()
        conn.start(into: &out)
        var encoder = HPACKEncoder()
        var block = ByteWriter()
        encoder.encode(fields([(":method", "POST"), (":path", "/a"), ("x-big", String(repeating: "v", count: 300))]), into: &block)
        let bytes = HTTP2Connection.preface + rawFrame(4, stream: 0, []) + rawFrame(1, flags: 5, stream: 1, block.bytes)
        let events = feed(conn, bytes, out: &out)
        #expect(events.last?.resetCode == .protocolError)
        #expect(!conn.isClosed)
    }

    @Test func continuationFloodIsBounded() {
        var config = HTTP2Configuration.server
        config.headerBlockBytesMax = 1_000
        let conn = HTTP2Connection(role: .server, configuration: config)
        var out = ByteWriter()
        conn.start(into: &out)
        var bytes = HTTP2Connection.preface + rawFrame(4, stream: 0, []) + rawFrame(1, stream: 1, [0x82])
        for _ in 0..<10 { bytes += rawFrame(9, stream: 1, [UInt8](repeating: 0x82, count: 200)) }
        let events = feed(conn, bytes, out: &out)
        #expect(events.last?.connectionErrorCode == .enhanceYourCalm)
    }
}

extension RobustnessTests {
    /// Decompressors are total: truncations, bit flips and appended garbage never trap.
    @Test func decompressorsSurviveMutations() {
        let codec = GzipCodec()
        var gz: [UInt8] = []
        SpecExample.pushRequest.withUnsafeBytes { codec.compress($0, into: &gz) }
        let snappy = SnappyTests.framed([(Array("abcdabcdabcd".utf8), SnappyTests.abcdBlock), (SpecExample.pprof, nil)])
        var rng = SplitMix64(seed: 7)
        for original in [gz, snappy] {
            for cut in 0..<original.count { Self.gunzipAndUnsnappy(codec, Array(original[..<cut])) }
            for _ in 0..<600 {
                var bytes = original
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                case 1: bytes.append(contentsOf: [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: Int(rng.next() % 20)))
                default: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                Self.gunzipAndUnsnappy(codec, bytes)
            }
        }
    }

    static func gunzipAndUnsnappy(_ codec: GzipCodec, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            if let out = try? codec.decompress(raw, limit: 4_096) { precondition(out.count <= 4_096) }
            if let out = try? SnappyFramed.decompress(raw, limit: 4_096) { precondition(out.count <= 4_096) }
        }
    }
}
