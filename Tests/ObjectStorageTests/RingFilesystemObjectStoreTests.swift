@testable import ObjectStorage
import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

func waitUntil(timeoutMs: Int = 10_000, _ condition: () -> Bool) -> Bool {
    for _ in 0..<timeoutMs {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// The io_uring-driven filesystem store on a real event loop.
@Suite(.serialized) struct RingFilesystemObjectStoreTests {
    /// Runs `puts` on the loop's ring through one store; returns each put's outcome.
    private func runPuts(root: String, prefix: String = "", _ puts: [(String, [UInt8])],
                         directorySynced: @escaping @Sendable (String) -> Void = { _ in }) throws -> [Result<Void, StorageError>] {
        var configuration = EventLoopConfiguration()
        configuration.pinThreads = false
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        group.start()
        defer { group.shutdown() }
        let loop = group.loops[0]
        let outcomes = Mutex<[Int: Result<Void, StorageError>]>([:])
        let completions = Mutex(0)
        let ringAvailable = Mutex<Bool?>(nil)
        let jobs = puts
        #expect(loop.post {
            guard let ring = loop.ring else { return ringAvailable.withLock { $0 = false } }
            ringAvailable.withLock { $0 = true }
            let store = RingFilesystemObjectStore(ring: ring, root: root, prefix: prefix, directorySynced: directorySynced)
            for (i, job) in jobs.enumerated() {
                store.put(job.0, job.1) { result in
                    _ = store  // the store lives until its last completion
                    outcomes.withLock { $0[i] = result }
                    completions.withLock { $0 += 1 }
                }
            }
        })
        #expect(waitUntil { ringAvailable.withLock { $0 } != nil })
        try #require(ringAvailable.withLock { $0 } == true, "io_uring unavailable on this machine")
        #expect(waitUntil { outcomes.withLock { $0.count } == puts.count })
        // A put runs several chains of ring operations; it must complete once, after the last.
        #expect(waitUntil { group.loops[0].ring.map { $0.inFlight == 0 } ?? true })
        #expect(completions.withLock { $0 } == puts.count)
        return outcomes.withLock { o in (0..<puts.count).compactMap { o[$0] } }
    }

    @Test func concurrentPutsBecomeCompleteObjectsWithNoTemporaryLeft() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let payloads = (0..<4).map { testBytes([3 << 20, 0, 1, 70_000][$0], seed: UInt64($0)) }
        let paths = (0..<4).map { "segments/\($0)/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ\($0)/block.bin" }
        let results = try runPuts(root: scratch.path + "/data", prefix: "p", Array(zip(paths, payloads)))
        #expect(results.count == 4)
        for (i, result) in results.enumerated() {
            #expect((try? result.get()) != nil, "put \(i): \(result)")
            #expect(try FilesystemObjectStore.readFile(scratch.path + "/data/p/" + paths[i]) == payloads[i])
        }
        #expect(scratch.files() == paths.map { "data/p/" + $0 }.sorted())
    }

    @Test func failedRenameReportsTheStepAndRemovesTheTemporary() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        _ = mkdir(scratch.path + "/segments", 0o755)
        _ = mkdir(scratch.path + "/segments/block.bin", 0o755)
        _ = mkdir(scratch.path + "/segments/block.bin/occupied", 0o755)
        let results = try runPuts(root: scratch.path, [("segments/block.bin", testBytes(10, seed: 9))])
        guard case .failure(.filesystem(operation: "rename", _, _))? = results.first else {
            Issue.record("expected a rename failure, got \(results)")
            return
        }
        #expect(scratch.files().isEmpty)
    }

    /// As with the blocking store: a put that failed past its `mkdir` leaves directories whose
    /// entries nobody synced, and the put that succeeds after it syncs them.
    @Test func aRetryAfterAPutFailedPastItsMkdirSyncsTheDirectoriesThatPutMade() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin"
        try blockTemporaries(scratch.path)
        let failed = try runPuts(root: scratch.path, [(path, [1])])
        guard case .failure(.filesystem(operation: "open", _, ENOTDIR))? = failed.first else {
            Issue.record("expected the temporary's open to fail, got \(failed)")
            return
        }
        unlink(scratch.path + "/.tmp")
        let synced = Mutex<[String]>([])
        let retried = try runPuts(root: scratch.path, [(path, [1])]) { d in synced.withLock { $0.append(d) } }
        #expect((try? retried.first?.get()) != nil, "\(retried)")
        #expect(Set(synced.withLock { $0 }) == Set(directoriesSyncedByAFirstPut(root: scratch.path, path)))
    }

    /// The file's chain fails at its first step while the syncs of the new directories'
    /// parents, chains of their own, are still running: the put reports the file's step once,
    /// after they ended, and leaves no temporary.
    @Test func failureOfTheFileChainWaitsForTheDirectorySyncsAndReportsOnce() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        // `.tmp` as a plain file: opening the temporary under it fails with ENOTDIR.
        let fd = open(scratch.path + "/.tmp", O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        close(fd)
        let path = "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin"
        let results = try runPuts(root: scratch.path, [(path, testBytes(1000, seed: 4))])
        guard case .failure(.filesystem(operation: "open", _, let code))? = results.first else {
            Issue.record("expected an open failure, got \(results)")
            return
        }
        #expect(code == ENOTDIR)
        #expect(scratch.files() == [".tmp"])
        var info = stat()
        #expect(stat(scratch.path + "/segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1", &info) == 0, "the directories were made")
    }
}
