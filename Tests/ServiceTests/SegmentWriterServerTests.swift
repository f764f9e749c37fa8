import BinaryCoding
import GRPC
import HTTP2
import ObjectStorage
import Runtime
import SegmentObject
import Synchronization
@testable import SegmentWriterService
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The server in process on loopback: a blocking gRPC client pushes and reads the answer;
/// the filesystem bucket is a temporary directory.
@Suite(.serialized) struct SegmentWriterServerTests {
    /// ingest-and-ops.md §1.7: tenant anonymous, shard 10, a 78-byte pprof, one annotation.
    static let example1_7 = hexBytes("""
        0a09616e6f6e796d6f757312170a085f5f6e616d655f5f120b70726f636573735f63707512160a0c7365727669\
        63655f6e616d6512066d792d617070224e0a040801100212090a0101120480ade20422060801220208012a0408\
        01100332003203637075320b6e616e6f7365636f6e647332046d61696e488080a8b1e39fe7cb175a0408011002\
        6080ade2042a100f8fad5bd9cb469fa16570867728950e300a3a540a187079726f73636f70652e696e67657374\
        2e73616d706c656412387b22626f6479223a7b22736f75726365223a7b22757361676547726f7570223a2267\
        222c2270726f626162696c697479223a302e357d7d7d
        """)

    static func withShard(_ request: [UInt8], _ shard: UInt32) -> [UInt8] {
        var bytes = request
        let at = bytes.firstIndex(of: 0x30)!  // field 6 varint tag, right after the 16-byte id
        precondition(bytes[at + 1] == 10)
        var varint = ByteWriter()
        varint.appendUvarint(UInt64(shard))
        bytes.replaceSubrange(at + 1 ... at + 1, with: varint.bytes)
        return bytes
    }

    /// A Push whose profile the accumulator refuses (INVALID_ARGUMENT), for `shard`.
    static func invalidRequest(shard: UInt8) -> [UInt8] {
        [0x0a, 0x09] + Array("anonymous".utf8) + [0x22, 0x0c] + [UInt8](repeating: 0xff, count: 12)
            + [0x2a, 0x10] + [UInt8](repeating: 7, count: 16) + [0x30, shard]
    }

    final class Fixture {
        let directory: String
        let server: SegmentWriterServer

        init(segmentDurationMs: Int = 200, loops: Int = 2, adjust: (inout SegmentWriterConfig) -> Void = { _ in },
             makeStore: ((EventLoop, String) -> any ObjectStore)? = nil) throws {
            var template = Array("/tmp/segment-writer-test-XXXXXX".utf8CString)
            directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            var config = SegmentWriterConfig()
            config.server.grpcListenAddress = "127.0.0.1"
            config.server.grpcListenPort = 0
            config.server.httpListenAddress = "127.0.0.1"
            config.server.httpListenPort = 0
            config.segmentWriter.eventLoops = loops
            config.segmentWriter.segmentDurationNs = Int64(segmentDurationMs) * 1_000_000
            config.storage.filesystemDir = directory
            adjust(&config)
            let root = directory
            server = try SegmentWriterServer(config: config, log: Log(level: .error),
                                             makeStore: makeStore.map { make in { loop in make(loop, root) } })
            try server.start()
        }

        deinit { _ = system("rm -rf \(directory)") }

        func file(_ path: String) -> [UInt8]? { try? TextFile.readBytes(directory + "/" + path) }

        func exists(_ path: String) -> Bool { access(directory + "/" + path, F_OK) == 0 }
    }

    /// A blocking h2c client: unary calls, answers read until every call finished.
    struct Client {
        let socket: Socket
        let grpc = GRPCClientConnection(configuration: GRPCClientConfiguration(authority: "localhost"))

        init(port: UInt16) throws {
            socket = try Socket.connect(ipv4: "127.0.0.1", port: port)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var out = ByteWriter()
            grpc.start(into: &out)
            try send(&out)
        }

        func send(_ out: inout ByteWriter) throws {
            try out.bytes.withUnsafeBytes { try socket.writeAll($0) }
            out.bytes.removeAll()
        }

        /// The statuses of calls that finished until nothing came for `quietMs`.
        func finishedCalls(quietMs: Int) throws -> [GRPCStatus] {
            var timeout = timeval(tv_sec: 0, tv_usec: Int(quietMs) * 1000)
            setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            defer {
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
            var statuses: [GRPCStatus] = []
            var out = ByteWriter()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while let n = try buffer.withUnsafeMutableBytes({ try socket.read(into: $0) }), n > 0 {
                buffer.withUnsafeBytes { raw in
                    var input = UnsafeRawBufferPointer(rebasing: raw[..<n])
                    while let event = grpc.next(&input, into: &out) {
                        if case .finished(_, let status, _) = event { statuses.append(status) }
                    }
                }
                try send(&out)
            }
            return statuses
        }

        /// Starts one unary call per request, then reads until all are finished.
        func unary(_ path: ByteString, _ requests: [[UInt8]], timeoutNs: UInt64? = nil) throws -> [CallID: GRPCStatus] {
            var out = ByteWriter()
            var pending = Set<CallID>()
            for request in requests {
                let call = request.withUnsafeBytes { grpc.unary(path: path, request: $0, timeoutNs: timeoutNs, into: &out) }
                pending.insert(try #require(call))
            }
            try send(&out)
            var statuses: [CallID: GRPCStatus] = [:]
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !pending.isEmpty {
                let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) } ?? 0
                guard n > 0 else { throw Errno.connectionReset }
                buffer.withUnsafeBytes { raw in
                    var input = UnsafeRawBufferPointer(rebasing: raw[..<n])
                    while let event = grpc.next(&input, into: &out) {
                        if case .finished(let call, let status, _) = event {
                            statuses[call] = status
                            pending.remove(call)
                        }
                    }
                }
                try send(&out)
            }
            return statuses
        }
    }

    static let push: ByteString = "/segmentwriter.v1.SegmentWriterService/Push"

    /// ingest-and-ops.md §7 check 1: OK only once block.bin and the DLQ meta.pb are written.
    /// A listener that cannot open names its server and address: here an address this host
    /// does not have (TEST-NET-3), as a pod configured with another pod's IP would.
    @Test func aListenFailureNamesTheServerAndTheAddress() {
        let error = #expect(throws: (any Error).self) {
            _ = try Fixture(adjust: { $0.server.httpListenAddress = "203.0.113.5" })
        }
        #expect(error.map { "\($0)" } == "cannot listen on the HTTP address 203.0.113.5:0: Cannot assign requested address (errno 99)")
    }

    @Test func ackIsWithheldUntilObjectIsDurable() throws {
        let fixture = try Fixture(segmentDurationMs: 300)
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, [Self.example1_7])
        #expect(statuses.values.map(\.code) == [.ok])
        let ids = try listDirectory(fixture.directory + "/segments/10/anonymous")
        #expect(ids.count == 1)
        let id = try #require(ids.first)
        let block = try #require(fixture.file("segments/10/anonymous/\(id)/block.bin"))
        let metaBytes = try #require(fixture.file("dlq/10/anonymous/\(id)/meta.pb"))
        let meta = try metaBytes.withUnsafeBytes { try BlockMeta(decoding: $0) }
        #expect(meta.size == UInt64(block.count))
        #expect(meta.shard == 10)
        #expect(String(decoding: meta.id.bytes, as: UTF8.self) == id)
        #expect(fixture.server.shutdown())
    }

    /// Shard s belongs to loop s mod N: with two loops one of shards 10/11 is owned by the
    /// other loop than the connection's, and both Pushes are answered from their segments.
    @Test func pushesRoutedToTheirOwnerLoopsAreAnswered() throws {
        let fixture = try Fixture()
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, [Self.withShard(Self.example1_7, 10), Self.withShard(Self.example1_7, 11)])
        #expect(statuses.values.map(\.code) == [.ok, .ok])
        #expect(try listDirectory(fixture.directory + "/segments/10/anonymous").count == 1)
        #expect(try listDirectory(fixture.directory + "/segments/11/anonymous").count == 1)
        #expect(fixture.server.shutdown())
    }

    /// A profile the owner loop refuses is answered INVALID_ARGUMENT on the connection's loop,
    /// whichever loop owns the shard (the refusal travels back through the ack inbox).
    @Test func refusalsFromEitherOwnerLoopReachTheClient() throws {
        let fixture = try Fixture()
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, [Self.invalidRequest(shard: 10), Self.invalidRequest(shard: 11)])
        #expect(statuses.values.map(\.code) == [.invalidArgument, .invalidArgument])
        #expect(!fixture.exists("segments"))
        #expect(fixture.server.shutdown())
    }

    /// `-segment-writer.max-shards`: a Push for a shard past the bound is refused
    /// RESOURCE_EXHAUSTED and makes nothing (no object, no metric series), whichever loop owns
    /// it; the shards held go on serving. A first Push the accumulator refuses takes no slot.
    @Test func pushesForShardsPastTheBoundAreRefusedAndTheHeldOnesKeepServing() throws {
        let fixture = try Fixture(adjust: { $0.segmentWriter.shardsMax = 2 })
        let client = try Client(port: fixture.server.grpcPort)
        #expect(try client.unary(Self.push, [Self.invalidRequest(shard: 12)]).values.map(\.code) == [.invalidArgument])
        #expect(try client.unary(Self.push, [Self.withShard(Self.example1_7, 10), Self.withShard(Self.example1_7, 11)]).values.map(\.code) == [.ok, .ok])
        for shard: UInt32 in [12, 13, 300] {
            let refused = try client.unary(Self.push, [Self.withShard(Self.example1_7, shard)]).values.first
            #expect(refused?.code == .resourceExhausted)
            #expect(refused?.message.description.contains("-segment-writer.max-shards=2") == true, "\(String(describing: refused))")
        }
        #expect(try client.unary(Self.push, [Self.withShard(Self.example1_7, 11), Self.withShard(Self.example1_7, 10)]).values.map(\.code) == [.ok, .ok])
        #expect(try listDirectory(fixture.directory + "/segments") == ["10", "11"])
        let metrics = String(decoding: fixture.server.metrics.exposition(), as: UTF8.self)
        let otherShards = metrics.split(separator: "\n").filter { $0.contains("shard=\"") && !$0.contains(#"shard="10""#) && !$0.contains(#"shard="11""#) }
        #expect(otherShards.isEmpty, "\(otherShards.prefix(3))")
        #expect(fixture.server.shutdown())
    }

    /// Peers open calls with `grpc-timeout` at will, and their deadlines take no timer of the
    /// loop's: 40 000 calls with day-long deadlines held open on one loop (past the 32 768 a
    /// loop-wide share once gave them) make no other call refused; Pushes with deadlines to 300
    /// new shards are ingested, uploaded and answered; and a short deadline still ends its call,
    /// within the loop's 100 ms sweep.
    @Test func callDeadlinesTakeNoLoopWideTableAndStillEndTheirCalls() throws {
        let fixture = try Fixture(loops: 1, adjust: { $0.server.grpcMaxConcurrentStreams = 1 << 17 })
        let holder = try Client(port: fixture.server.grpcPort)
        #expect(try holder.unary(GRPCHealth.checkPath, [[]]).values.map(\.code) == [.ok])  // SETTINGS seen
        for _ in 0 ..< 40 {
            var out = ByteWriter()
            for _ in 0 ..< 1000 {
                _ = try #require(holder.grpc.startCall(path: Self.push, timeoutNs: 86_400_000_000_000, into: &out))
            }
            try holder.send(&out)
        }
        #expect(try holder.finishedCalls(quietMs: 200).isEmpty, "no call with a deadline refused")
        let pusher = try Client(port: fixture.server.grpcPort)
        let statuses = try pusher.unary(Self.push, (1 ... 300).map { Self.withShard(Self.example1_7, $0) }, timeoutNs: 10_000_000_000)
        #expect(statuses.values.filter { $0.code == .ok }.count == 300)
        // A Watch never ends on its own: its deadline ends it.
        let watcher = try Client(port: fixture.server.grpcPort)
        let start = EventLoop.monotonicNowNs
        let watched = try watcher.unary(GRPCHealth.watchPath, [[]], timeoutNs: 300_000_000)
        let elapsedMs = (EventLoop.monotonicNowNs - start) / 1_000_000
        #expect(watched.values.map(\.code) == [.deadlineExceeded])
        #expect(elapsedMs >= 300 && elapsedMs < 1500, "\(elapsedMs) ms")
        holder.socket.close()
        #expect(fixture.server.shutdown())
    }

    /// At most `LoopTimerBudget.uploadsMax` uploads run on a loop (each may hold timers); the
    /// segments flushed past that wait for a slot, holding none, and are uploaded and answered
    /// once earlier uploads end. The store holds block puts until that many are held at once,
    /// then 300 ms more (time for an unbounded uploader to start the rest) before it lets all
    /// through.
    @Test func uploadsPastTheLoopsBoundWaitForASlotAndAreAllAnswered() throws {
        let bound = LoopTimerBudget.uploadsMax, shards = LoopTimerBudget.uploadsMax + 76
        let record = GatedStore.Record()
        let fixture = try Fixture(loops: 1, adjust: {
            $0.server.grpcMaxConcurrentStreams = 1 << 17
            $0.segmentWriter.uploadTimeoutNs = 0
            $0.segmentWriter.uploadHedgeAfterNs = 60_000_000_000
        }, makeStore: { loop, root in GatedStore(loop: loop, root: root, heldBeforeOpening: bound, record: record) })
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, (1 ... shards).map { Self.withShard(Self.example1_7, UInt32($0)) })
        #expect(statuses.count == shards && statuses.values.allSatisfy { $0.code == .ok })
        #expect(record.mostHeld.load(ordering: .acquiring) == bound, "the bound was reached and never passed")
        #expect(record.blockPuts.load(ordering: .acquiring) == shards, "every waiting segment uploaded once")
        #expect(try listDirectory(fixture.directory + "/segments").count == shards)
        #expect(fixture.server.shutdown())
    }

    /// §1.3 check 1 and §5.5: once draining, a Push is UNAVAILABLE and nothing is written.
    @Test func drainingRefusesPushes() throws {
        let fixture = try Fixture()
        fixture.server.readiness.advance(to: .draining)
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, [Self.example1_7])
        #expect(statuses.values.first == GRPCStatus(.unavailable, "service is unavailable"))
        #expect(!fixture.exists("segments"))
        #expect(fixture.server.shutdown())
    }

    /// ingest-and-ops.md §1.4: a block upload still running after `upload-hedge-after` gets a
    /// hedged second upload; the first success answers the Pushes. At 0 the hedge starts at once
    /// (upstream's trigger is `time.After(0)`).
    @Test(arguments: [100_000_000, 0] as [Int64])
    func slowUploadIsHedgedAndTheFirstSuccessAnswers(hedgeAfterNs: Int64) throws {
        let fixture = try Fixture(loops: 1, adjust: { $0.segmentWriter.uploadHedgeAfterNs = hedgeAfterNs }, makeStore: { loop, root in
            ScriptedStore(loop: loop, root: root) { attempt in attempt == 1 ? .delay(ms: 3000) : .pass }
        })
        let client = try Client(port: fixture.server.grpcPort)
        let start = EventLoop.monotonicNowNs
        #expect(try client.unary(Self.push, [Self.example1_7]).values.map(\.code) == [.ok])
        #expect(EventLoop.monotonicNowNs - start < 2_000_000_000, "answered by the hedge, not the slow first upload")
        let metrics = String(decoding: fixture.server.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains(#"pyroscope_segment_writer_hedged_upload_duration_seconds_count{status="success"} 1"#))
        #expect(fixture.server.shutdown())
    }

    /// As upstream's `retry.Hedged` (FailFast false): a primary whose attempts all fail fast
    /// (three, within a few hundred ms) does not end the upload; the hedge still starts at
    /// `upload-hedge-after` and retries until the upload timeout.
    @Test func hedgeStartsAfterThePrimaryFailedFastAndItsSuccessAnswers() throws {
        let fixture = try Fixture(loops: 1, makeStore: { loop, root in
            ScriptedStore(loop: loop, root: root) { attempt in attempt <= 3 ? .fail : .pass }
        })
        let client = try Client(port: fixture.server.grpcPort)
        #expect(try client.unary(Self.push, [Self.example1_7]).values.map(\.code) == [.ok])
        #expect(try listDirectory(fixture.directory + "/segments/10/anonymous").count == 1)
        let metrics = String(decoding: fixture.server.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains(#"pyroscope_segment_writer_hedged_upload_duration_seconds_count{status="success"} 1"#))
        #expect(metrics.contains(#"pyroscope_segment_writer_upload_duration_seconds_count{status="success"} 1"#))
        #expect(fixture.server.shutdown())
    }

    /// `-segment-writer.upload-timeout=0` is no timeout (upstream: `if UploadTimeout > 0`), not
    /// one of a millisecond: a put answered 100 ms later still stores the segment.
    @Test func zeroUploadTimeoutIsNone() throws {
        let fixture = try Fixture(loops: 1, adjust: {
            $0.segmentWriter.uploadTimeoutNs = 0
            $0.segmentWriter.uploadHedgeAfterNs = 60_000_000_000
        }, makeStore: { loop, root in ScriptedStore(loop: loop, root: root) { attempt in attempt == 1 ? .delay(ms: 100) : .pass } })
        let client = try Client(port: fixture.server.grpcPort)
        #expect(try client.unary(Self.push, [Self.example1_7]).values.map(\.code) == [.ok])
        #expect(fixture.server.shutdown())
    }

    /// `-segment-writer.metadata-update-timeout=0` sets no deadline of its own (upstream: `if
    /// MetadataUpdateTimeout > 0`): a DLQ write that fails once is retried.
    @Test func zeroMetadataUpdateTimeoutLeavesTheDLQWriteItsRetries() throws {
        let fixture = try Fixture(loops: 1, adjust: { $0.segmentWriter.metadataUpdateTimeoutNs = 0 }, makeStore: { loop, root in
            ScriptedStore(loop: loop, root: root) { attempt in attempt == 2 ? .fail : .pass }
        })
        let client = try Client(port: fixture.server.grpcPort)
        #expect(try client.unary(Self.push, [Self.example1_7]).values.map(\.code) == [.ok])
        let id = try #require(try listDirectory(fixture.directory + "/segments/10/anonymous").first)
        #expect(fixture.exists("dlq/10/anonymous/\(id)/meta.pb"))
        #expect(fixture.server.shutdown())
    }

    /// `-segment-writer.bucket-health-check-timeout` bounds the start-up check: an S3 endpoint
    /// that takes the connection and never answers costs that long, not the 10 s I/O timeout.
    @Test func bucketHealthCheckTimeoutBoundsTheStartUpCheck() throws {
        let silent = try ListeningSocket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { silent.close() }
        let port = try silent.localPort
        let start = EventLoop.monotonicNowNs
        let fixture = try Fixture(loops: 1, adjust: {
            $0.storage.backend = .s3
            $0.storage.s3.endpoint = "127.0.0.1:\(port)"
            $0.storage.s3.bucketName = "bucket"
            $0.storage.s3.insecure = true
            $0.segmentWriter.bucketHealthCheckTimeoutNs = 300_000_000
        })
        #expect(EventLoop.monotonicNowNs - start < 3_000_000_000)
        #expect(fixture.server.shutdown())
    }

    /// The size bound flushes inside the ingest; with a store that completes synchronously (the
    /// blocking fallback) the answer arrives before `ingest` returns and must still be sent.
    @Test func sizeBoundFlushWithSynchronousStoreAnswers() throws {
        let fixture = try Fixture(segmentDurationMs: 30_000, loops: 1, adjust: { $0.segmentWriter.segmentMaxBytes = 1 },
                                  makeStore: { loop, root in ScriptedStore(loop: loop, root: root) { _ in .pass } })
        let client = try Client(port: fixture.server.grpcPort)
        let start = EventLoop.monotonicNowNs
        #expect(try client.unary(Self.push, [Self.example1_7]).values.map(\.code) == [.ok])
        #expect(EventLoop.monotonicNowNs - start < 5_000_000_000)
        #expect(fixture.server.shutdown())
    }

    /// A failed put is retried with backoff inside the upload timeout (§5.1).
    @Test func failedPutIsRetried() throws {
        let fixture = try Fixture(loops: 1, makeStore: { loop, root in
            ScriptedStore(loop: loop, root: root) { attempt in attempt == 1 ? .fail : .pass }
        })
        let client = try Client(port: fixture.server.grpcPort)
        #expect(try client.unary(Self.push, [Self.example1_7]).values.map(\.code) == [.ok])
        #expect(try listDirectory(fixture.directory + "/segments/10/anonymous").count == 1)
        #expect(fixture.server.shutdown())
    }

    /// §7 check 5: when every attempt fails, every Push of the segment gets UNKNOWN.
    @Test func uploadFailureAnswersEveryParkedPushUnknown() throws {
        let fixture = try Fixture(loops: 1, adjust: { $0.segmentWriter.uploadTimeoutNs = 300_000_000 }, makeStore: { loop, root in
            ScriptedStore(loop: loop, root: root) { _ in .fail }
        })
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, [Self.example1_7, Self.example1_7, Self.example1_7])
        #expect(statuses.count == 3)
        for status in statuses.values {
            #expect(status.code == .unknown)
            #expect(status.message.description.hasPrefix("failed to upload block "))
        }
        #expect(fixture.server.shutdown())
    }

    /// A put still running at the upload timeout is cancelled (no retry, no late object) and the
    /// segment's bytes stay charged to the memory budget until the store confirms the
    /// cancellation, even though the Pushes were answered UNKNOWN at the timeout.
    @Test func uploadTimeoutCancelsThePutAndKeepsItsBytesChargedUntilTheCancelEnds() throws {
        let budget = Mutex<MemoryBudget?>(nil)
        let record = HangingStore.Record()
        let fixture = try Fixture(loops: 1, adjust: { $0.segmentWriter.uploadTimeoutNs = 300_000_000 }, makeStore: { loop, _ in
            HangingStore(loop: loop, confirmAfterMs: 400, record: record) { budget.withLock { $0?.usedBytes } ?? -1 }
        })
        budget.withLock { $0 = fixture.server.memoryBudget }
        let client = try Client(port: fixture.server.grpcPort)
        let statuses = try client.unary(Self.push, [Self.example1_7, Self.example1_7])
        #expect(statuses.values.map(\.code) == [.unknown, .unknown])
        for _ in 0..<5000 where !record.confirmed.load(ordering: .acquiring) { usleep(1000) }
        let confirmed = record.confirmed.load(ordering: .acquiring)
        let puts = record.puts.load(ordering: .relaxed), cancels = record.cancels.load(ordering: .relaxed)
        let usedBefore = record.usedBeforeConfirm.load(ordering: .relaxed)
        let usedAfter = record.usedAfterConfirm.load(ordering: .relaxed)
        #expect(confirmed)
        #expect(puts == 1, "no retry after the timeout")
        #expect(cancels == 1)
        #expect(usedBefore > 0, "still charged while the cancel runs")
        #expect(usedAfter == 0, "released once it ended")
        #expect(fixture.server.shutdown())
    }

    /// `Limiter.Wait`: the burst at once, then a token every 1/rate, waited for unless the wait
    /// would pass the caller's limit (then nothing is reserved); a zero rate grants the burst only.
    @Test func hedgeTokenBucketGrantsBurstThenWaitsForTheRate() {
        let bucket = TokenBucket(ratePerSecond: 2, burst: 3, nowNs: 0)
        #expect((0 ..< 3).map { _ in bucket.reserve(nowNs: 0, waitNsMax: 0) } == [0, 0, 0])
        #expect(bucket.reserve(nowNs: 0, waitNsMax: 499_999_999) == nil)
        #expect(bucket.reserve(nowNs: 0, waitNsMax: 2_000_000_000) == 500_000_000)
        #expect(bucket.reserve(nowNs: 0, waitNsMax: 2_000_000_000) == 1_000_000_000)
        #expect(bucket.reserve(nowNs: 1_500_000_000, waitNsMax: 0) == 0)
        let zeroRate = TokenBucket(ratePerSecond: 0, burst: 1, nowNs: 0)
        #expect(zeroRate.reserve(nowNs: 0, waitNsMax: 0) == 0)
        #expect(zeroRate.reserve(nowNs: 10_000_000_000, waitNsMax: .max) == nil)
        // A tiny rate's wait is past UInt64's range (1e21 ns), or past the limit the loop's
        // timer can add to its clock (1e19 ns): never, even without a deadline.
        for rate in [1e-12, 1e-10] {
            let tiny = TokenBucket(ratePerSecond: rate, burst: 1, nowNs: 0)
            #expect(tiny.reserve(nowNs: 0, waitNsMax: .max) == 0)
            #expect(tiny.reserve(nowNs: 0, waitNsMax: .max) == nil)
            #expect(tiny.reserve(nowNs: 0, waitNsMax: 2_000_000_000) == nil)
        }
        let slow = TokenBucket(ratePerSecond: 0x1p-30, burst: 1, nowNs: 0)
        #expect(slow.reserve(nowNs: 0, waitNsMax: 0) == 0)
        #expect(slow.reserve(nowNs: 0, waitNsMax: .max) == 1_073_741_824_000_000_000)
    }

    /// dskit's backoff: a delay drawn in [min, 2·min), the range doubling after each draw, both
    /// ends capped at max (50 ms and 500 ms: upstream's upload retry periods).
    @Test func uploadBackoffDrawsJitteredDelaysInDoublingRanges() {
        var random = SplitMix64(seed: 7)
        var backoff = RetryBackoff(minNs: 50_000_000, maxNs: 500_000_000)
        let ranges: [Range<UInt64>] = [50 ..< 100, 100 ..< 200, 200 ..< 400, 400 ..< 500, 400 ..< 500].map { $0.lowerBound * 1_000_000 ..< $0.upperBound * 1_000_000 }
        let delays = ranges.map { _ in backoff.nextDelayNs(using: &random) }
        for (delay, range) in zip(delays, ranges) { #expect(range.contains(delay), "\(delay) not in \(range)") }
        #expect(Set(delays).count == delays.count, "jittered: \(delays)")
        var fixed = RetryBackoff(minNs: 80_000_000, maxNs: 80_000_000)
        #expect(fixed.nextDelayNs(using: &random) == 80_000_000)
    }

    @Test func acknowledgementsAreBatchedPerLoop() {
        let groups = ServerContext.byLoop([(1, "a"), (0, "b"), (1, "c")], loopCount: 3, loop: \.0)
        #expect(groups.map(\.0) == [0, 1])
        #expect(groups.map { $0.1.map(\.1) } == [["b"], ["a", "c"]])
        #expect(ServerContext.byLoop([(2, "x"), (2, "y")], loopCount: 3, loop: \.0).map(\.0) == [2])
    }

    @Test func memoryBudgetRefusesPastItsBound() {
        let budget = MemoryBudget(bytesMax: 100)
        #expect(budget.tryReserve(60))
        #expect(!budget.tryReserve(41))
        budget.charge(50)  // accumulated growth is charged even past the bound
        #expect(budget.usedBytes == 110)
        budget.release(110)
        #expect(budget.tryReserve(100))
    }
}

func listDirectory(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw Errno(rawValue: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." && !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted()
}

/// A store whose puts never answer until cancelled; a cancellation is confirmed (the put
/// completes with `.cancelled`) `confirmAfterMs` later, recording the budget around it.
final class HangingStore: ObjectStore {
    final class Record: Sendable {
        let puts = Atomic<Int>(0), cancels = Atomic<Int>(0), confirmed = Atomic<Bool>(false)
        let usedBeforeConfirm = Atomic<Int>(-1), usedAfterConfirm = Atomic<Int>(-1)
    }

    let loop: EventLoop
    let confirmAfterMs: UInt64
    let record: Record
    let usedBytes: () -> Int
    private var waiting: [String: [(Result<Void, StorageError>) -> Void]] = [:]

    init(loop: EventLoop, confirmAfterMs: UInt64, record: Record, usedBytes: @escaping () -> Int) {
        self.loop = loop
        self.confirmAfterMs = confirmAfterMs
        self.record = record
        self.usedBytes = usedBytes
    }

    func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        record.puts.add(1, ordering: .relaxed)
        waiting[path, default: []].append(completion)
    }

    func cancelPuts(_ path: String) {
        guard let completions = waiting.removeValue(forKey: path) else { return }
        record.cancels.add(1, ordering: .relaxed)
        loop.scheduleTimer(afterMs: confirmAfterMs) { [record, usedBytes] _ in
            record.usedBeforeConfirm.store(usedBytes(), ordering: .relaxed)
            for completion in completions { completion(.failure(.cancelled)) }
            record.usedAfterConfirm.store(usedBytes(), ordering: .relaxed)
            record.confirmed.store(true, ordering: .releasing)
        }
    }

    func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) { completion(.failure(.cancelled)) }
    func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) { completion(.success(())) }
}

/// A filesystem store that holds every `block.bin` put (the DLQ metadata goes through) until
/// `heldBeforeOpening` are held at once; 300 ms later it lets the held ones and all later
/// puts through.
final class GatedStore: ObjectStore {
    final class Record: Sendable {
        let blockPuts = Atomic<Int>(0), mostHeld = Atomic<Int>(0)
    }

    let loop: EventLoop
    let inner: FilesystemObjectStore
    let heldBeforeOpening: Int
    let record: Record
    private var held: [(path: String, bytes: [UInt8], completion: (Result<Void, StorageError>) -> Void)] = []
    private var isOpen = false

    init(loop: EventLoop, root: String, heldBeforeOpening: Int, record: Record) {
        self.loop = loop
        inner = FilesystemObjectStore(root: root)
        self.heldBeforeOpening = heldBeforeOpening
        self.record = record
    }

    func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        guard path.hasSuffix("/block.bin") else { return inner.put(path, bytes, completion: completion) }
        record.blockPuts.add(1, ordering: .releasing)
        guard !isOpen else { return inner.put(path, bytes, completion: completion) }
        held.append((path, bytes, completion))
        record.mostHeld.store(max(record.mostHeld.load(ordering: .relaxed), held.count), ordering: .releasing)
        guard held.count == heldBeforeOpening else { return }
        loop.scheduleTimer(afterMs: 300) { [self] _ in
            isOpen = true
            for put in held { inner.put(put.path, put.bytes, completion: put.completion) }
            held = []
        }
    }

    func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) { inner.get(path, completion: completion) }
    func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) { inner.checkHealth(completion: completion) }
}

/// A filesystem store whose puts follow a script by attempt number (1-based, counting every
/// put on this loop): pass at once, fail, or complete later from a loop timer.
final class ScriptedStore: ObjectStore {
    enum Step { case pass, fail, delay(ms: UInt64) }

    let loop: EventLoop
    let inner: FilesystemObjectStore
    let script: (Int) -> Step
    private var attempts = 0

    init(loop: EventLoop, root: String, script: @escaping (Int) -> Step) {
        self.loop = loop
        inner = FilesystemObjectStore(root: root)
        self.script = script
    }

    func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        attempts += 1
        switch script(attempts) {
        case .pass:
            inner.put(path, bytes, completion: completion)
        case .fail:
            completion(.failure(.transport("scripted failure")))
        case .delay(let ms):
            loop.scheduleTimer(afterMs: ms) { [inner] _ in inner.put(path, bytes, completion: completion) }
        }
    }

    func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) { inner.get(path, completion: completion) }
    func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) { inner.checkHealth(completion: completion) }
}
