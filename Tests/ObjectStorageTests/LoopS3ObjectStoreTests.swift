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

@Suite(.serialized) struct LoopS3ObjectStoreTests {
    @Test func loopDrivenPutsAndGetsReuseConnectionsAndReconnect() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 3)
        defer { server.stop() }
        let port = server.port
        let outcomes = Outcomes()
        try onLoop { loop, done in
            let configuration = S3Configuration(endpoint: "127.0.0.1:\(port)", bucketName: "b",
                                                credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"), insecure: true)
            let store: LoopS3ObjectStore
            do { store = try LoopS3ObjectStore(loop: loop, configuration: configuration) } catch {
                outcomes.add("init \(error)")
                return done()
            }
            // Sequential: each step starts from the previous completion, as a flush would.
            func step(_ i: Int) {
                guard i < 7 else {
                    outcomes.add("connections \(store.connectionsOpened)")
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
            "put 6 success()", "connections 3",
        ])
        #expect(server.connectionsAccepted.load(ordering: .relaxed) == 3)
    }

    @Test func refusedConnectionFailsThePut() throws {
        let server = LoopbackHTTPServer(requestsPerConnection: 1)
        let port = server.port
        server.stop()
        let outcomes = Outcomes()
        try onLoop { loop, done in
            let configuration = S3Configuration(endpoint: "127.0.0.1:\(port)", bucketName: "b",
                                                credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"), insecure: true)
            guard let store = try? LoopS3ObjectStore(loop: loop, configuration: configuration) else { return done() }
            store.put("segments/1/block.bin", [1]) { result in
                if case .failure(.transport) = result { outcomes.add("transport error") } else { outcomes.add("\(result)") }
                done()
            }
        }
        #expect(outcomes.all == ["transport error"])
    }
}

@Suite struct LoopS3ObjectStoreDeadlineTests {
    @Test func silentServerFailsThePutAtTheDeadline() throws {
        let listener = SilentListener()
        defer { listener.close() }
        let port = listener.port
        let outcomes = Outcomes()
        try onLoop { loop, done in
            let configuration = S3Configuration(endpoint: "127.0.0.1:\(port)", bucketName: "b",
                                                credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"),
                                                insecure: true, ioTimeoutMs: 150)
            guard let store = try? LoopS3ObjectStore(loop: loop, configuration: configuration) else { return done() }
            store.put("segments/1/block.bin", [1]) { result in
                outcomes.add("\(result)")
                done()
            }
        }
        #expect(outcomes.all == [#"failure(ObjectStorage.StorageError.transport("no answer within 150 ms"))"#])
    }
}

@Suite struct LoopStoreSelectionTests {
    @Test func eachBackendGetsItsLoopDrivenStore() throws {
        let outcomes = Outcomes()
        try onLoop { loop, done in
            let s3 = S3Configuration(endpoint: "127.0.0.1:9", bucketName: "b",
                                     credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"), insecure: true)
            let filesystem = try? StorageConfiguration(backend: .filesystem, filesystemDirectory: "/tmp/unused").makeLoopStore(on: loop)
            let object = try? StorageConfiguration(backend: .s3, s3: s3).makeLoopStore(on: loop)
            outcomes.add("\(filesystem is RingFilesystemObjectStore || (loop.ring == nil && filesystem is FilesystemObjectStore))")
            outcomes.add("\(object is LoopS3ObjectStore)")
            done()
        }
        #expect(outcomes.all == ["true", "true"])
    }
}
