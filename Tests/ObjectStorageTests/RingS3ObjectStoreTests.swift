#if canImport(Glibc)
import Glibc
#endif
import ObjectStorage
import Runtime
import Synchronization
import Testing

/// Runs `body` on a one-loop group's thread and waits until it reports `done`.
func onLoop(_ body: @escaping @Sendable (EventLoop, @escaping @Sendable () -> Void) -> Void) throws {
    var configuration = EventLoopConfiguration()
    configuration.pinThreads = false
    let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
    group.start()
    defer { group.shutdown() }
    let finished = Atomic<Bool>(false)
    let loop = group.loops[0]
    #expect(loop.post { body(loop) { finished.store(true, ordering: .releasing) } })
    #expect(waitUntil(timeoutMs: 20_000) { finished.load(ordering: .acquiring) }, "loop work did not finish")
}

/// Strings describing each step's outcome, collected on the loop and read after it finished.
final class Outcomes: Sendable {
    let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A ring S3 store for `127.0.0.1:port` on `loop` (plain HTTP), or nil after recording why not.
func ringStore(_ loop: EventLoop, host: String = "127.0.0.1", port: Int, ioTimeoutMs: Int = 10_000,
               _ outcomes: Outcomes) -> RingS3ObjectStore? {
    let configuration = S3Configuration(endpoint: "\(host):\(port)", bucketName: "b",
                                        credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"),
                                        insecure: true, ioTimeoutMs: ioTimeoutMs)
    guard let ring = loop.ring else {
        outcomes.add("no ring")
        return nil
    }
    do {
        return try RingS3ObjectStore(loop: loop, ring: ring, configuration: configuration)
    } catch {
        outcomes.add("init \(error)")
        return nil
    }
}

@Suite(.serialized) struct RingS3ObjectStoreTests {
    @Test func ringDrivenPutsAndGetsReuseConnectionsAndReconnect() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 3)
        defer { server.stop() }
        let port = server.port
        let outcomes = Outcomes()
        try onLoop { loop, done in
            guard let store = ringStore(loop, port: port, outcomes) else { return done() }
            // Sequential: each step starts from the previous completion, as a flush would.
            func step(_ i: Int) {
                guard i < 7 else {
                    let ops = store.ringCompletions
                    outcomes.add("connections \(store.connectionsOpened)")
                    // Every socket call went through the ring: one connect per connection, at
                    // least one send and one recv per request.
                    outcomes.add("ring connect \(ops.connect) send≥7 \(ops.send >= 7) recv≥7 \(ops.recv >= 7)")
                    return done()
                }
                if i % 2 == 0 {
                    store.put("segments/\(i)/block.bin", [UInt8(i)]) { result in
                        outcomes.add("put \(i) \(result)")
                        step(i + 1)
                    }
                } else {
                    store.get("segments/\(i)/block.bin") { result in
                        outcomes.add("get \(i) \((try? result.get()).map { String(decoding: $0, as: UTF8.self) } ?? "\(result)")")
                        step(i + 1)
                    }
                }
            }
            step(0)
        }
        #expect(outcomes.all == [
            "put 0 success()", "get 1 /b/segments/1/block.bin", "put 2 success()",
            "get 3 /b/segments/3/block.bin", "put 4 success()", "get 5 /b/segments/5/block.bin",
            "put 6 success()", "connections 3", "ring connect 3 send≥7 true recv≥7 true",
        ])
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 3)
    }

    @Test func largeBodyIsSentWhole() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 2)
        defer { server.stop() }
        let port = server.port
        let outcomes = Outcomes()
        let body = (0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try onLoop { loop, done in
            guard let store = ringStore(loop, port: port, outcomes) else { return done() }
            store.put("segments/big/block.bin", body) { result in
                outcomes.add("put \(result)")
                store.get("segments/after/block.bin") { result in
                    // The same connection answers next: the whole body was consumed.
                    outcomes.add("get \((try? result.get()).map { String(decoding: $0, as: UTF8.self) } ?? "\(result)")")
                    outcomes.add("connections \(store.connectionsOpened)")
                    // More ring sends than requests: the kernel took the body in parts and the
                    // store sent the rest (short writes).
                    outcomes.add("short sends continued \(store.ringCompletions.send > 2)")
                    done()
                }
            }
        }
        #expect(outcomes.all == ["put success()", "get /b/segments/after/block.bin", "connections 1", "short sends continued true"])
    }

    @Test func ipv6EndpointIsConnectedThroughTheRing() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 2, ipv6: true)
        defer { server.stop() }
        let port = server.port
        let outcomes = Outcomes()
        try onLoop { loop, done in
            guard let store = ringStore(loop, host: "[::1]", port: port, outcomes) else { return done() }
            store.get("segments/6/block.bin") { result in
                outcomes.add("get \((try? result.get()).map { String(decoding: $0, as: UTF8.self) } ?? "\(result)")")
                outcomes.add("ring connect \(store.ringCompletions.connect)")
                done()
            }
        }
        #expect(outcomes.all == ["get /b/segments/6/block.bin", "ring connect 1"])
    }

    @Test func refusedConnectionFailsThePut() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 1)
        let port = server.port
        server.stop()
        let outcomes = Outcomes()
        try onLoop { loop, done in
            guard let store = ringStore(loop, port: port, outcomes) else { return done() }
            store.put("segments/1/block.bin", [1]) { result in
                if case .failure(.transport(let message)) = result, message.contains("connect to 127.0.0.1:\(port)") {
                    outcomes.add("transport error")
                } else {
                    outcomes.add("\(result)")
                }
                outcomes.add("closed before completion \(store.ringCompletions.close == 1)")
                done()
            }
        }
        #expect(outcomes.all == ["transport error", "closed before completion true"])
    }
}

@Suite struct RingS3ObjectStoreDeadlineTests {
    @Test func silentServerFailsThePutAtTheDeadline() throws {
        let listener = SilentListener()
        defer { listener.close() }
        let port = listener.port
        let outcomes = Outcomes()
        try onLoop { loop, done in
            guard let store = ringStore(loop, port: port, ioTimeoutMs: 150, outcomes) else { return done() }
            store.put("segments/1/block.bin", [1]) { result in
                outcomes.add("\(result)")
                let ops = store.ringCompletions
                outcomes.add("recv cancelled \(ops.cancel >= 1 && ops.recv == 1), closed \(ops.close == 1)")
                done()
            }
        }
        #expect(outcomes.all == [#"failure(ObjectStorage.StorageError.transport("no answer within 150 ms"))"#,
                                 "recv cancelled true, closed true"])
    }

    /// The upload timeout's cancellation (segment-object.md §10.3): a put stuck mid-body (the
    /// peer never reads, the send cannot finish) ends with `.cancelled` once its ring send is
    /// cancelled and its socket closed, long before the I/O timeout.
    @Test func cancelPutsEndsAPutStuckMidBodyAfterItsSocketClosed() throws {
        let listener = SilentListener()
        defer { listener.close() }
        let port = listener.port
        let outcomes = Outcomes()
        let body = [UInt8](repeating: 7, count: 16 << 20)
        try onLoop { loop, done in
            guard let store = ringStore(loop, port: port, outcomes) else { return done() }
            let startNs = EventLoop.monotonicNowNs
            var ended = 0
            func end(_ name: String, _ result: Result<Void, StorageError>) {
                // The completion runs only after this attempt's socket was closed by the ring.
                outcomes.add("\(name) \(result) closed \(store.ringCompletions.close > ended)")
                ended += 1
                guard ended == 2 else { return }
                let ops = store.ringCompletions
                outcomes.add("cancels \(ops.cancel >= 3) closes \(ops.close) in flight \(store.requestsInFlight)")
                outcomes.add("fast \(EventLoop.monotonicNowNs - startNs < 5_000_000_000)")
                done()
            }
            store.put("segments/1/block.bin", body) { end("stuck", $0) }
            store.put("segments/2/block.bin", [1]) { end("small", $0) }
            loop.scheduleTimer(afterMs: 200) { _ in
                outcomes.add("requests \(store.requestsInFlight)")
                store.cancelPuts("segments/1/block.bin")
                store.cancelPuts("segments/2/block.bin")
            }
        }
        let lines = outcomes.all
        #expect(lines.first == "requests 2")
        #expect(Set(lines.dropFirst().prefix(2)) == ["stuck failure(ObjectStorage.StorageError.cancelled) closed true",
                                                       "small failure(ObjectStorage.StorageError.cancelled) closed true"])
        #expect(lines.suffix(2) == ["cancels true closes 2 in flight 0", "fast true"])
    }
}

@Suite struct LoopStoreSelectionTests {
    @Test func eachBackendGetsItsRingDrivenStore() throws {
        let outcomes = Outcomes()
        try onLoop { loop, done in
            let s3 = S3Configuration(endpoint: "127.0.0.1:9", bucketName: "b",
                                     credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"), insecure: true)
            let filesystem = try? StorageConfiguration(backend: .filesystem, filesystemDirectory: "/tmp/unused").makeLoopStore(on: loop)
            let object = try? StorageConfiguration(backend: .s3, s3: s3).makeLoopStore(on: loop)
            outcomes.add("\(loop.ring != nil)")
            outcomes.add("\(filesystem is RingFilesystemObjectStore)")
            outcomes.add("\(object is RingS3ObjectStore)")
            done()
        }
        #expect(outcomes.all == ["true", "true", "true"])
    }
}
