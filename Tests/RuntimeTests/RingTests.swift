import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized)
struct RingTests {
    @Test func ringWritesFsyncsAndRenamesAFileDurably() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let group = try EventLoopGroup(loopCount: 1)
        group.start()
        let payload = testBytes(count: 3 << 20, seed: 7)
        let outcome = Mutex<DurableWrite.Outcome?>(nil)
        let loop = group.loops[0]
        #expect(loop.post {
            let write = DurableWrite(
                ring: loop.ring!, directory: directory.path, temporaryName: "block.bin.tmp",
                finalName: "block.bin", payload: payload
            ) { result in outcome.withLock { $0 = result } }
            write.start()
        })
        #expect(waitUntil { outcome.withLock { $0 } != nil })
        group.shutdown()

        let result = try #require(outcome.withLock { $0 })
        #expect(result.failure == nil, "failed at \(result.failedStep ?? "?"): \(String(describing: result.failure))")
        #expect(result.steps == ["openat", "write", "fsync", "close", "renameat", "open dir", "fsync dir", "close dir"])
        #expect(try directory.read("block.bin") == payload)
        #expect(access(directory.path + "/block.bin.tmp", F_OK) != 0, "the temporary name is gone after rename")
    }

    /// A chain of operations started by a timer, each prepared in the previous one's completion,
    /// runs to its end right after that timer (the loop pumps the ring after each event and
    /// timer), not one step per loop iteration: a timer that fires in the next iteration sees
    /// the whole chain done. Nops complete inside the submit, as open and close do.
    @Test func chainPreparedInCompletionsAdvancesRightAfterTheTimerThatStartedIt() throws {
        let group = try EventLoopGroup(loopCount: 1)
        group.start()
        defer { group.shutdown() }
        let seen = Mutex<Int?>(nil)
        let loop = group.loops[0]
        #expect(loop.post {
            let ring = loop.ring!
            var completed = 0
            var client: RingClient!
            let handler = RecordingHandler { tag, _ in
                completed += 1
                if tag < 3 { try? ring.nop(client: client, tag: tag + 1) }
            }
            client = ring.register(handler)
            loop.scheduleTimer(afterMs: 1) { loop in
                try? ring.nop(client: client, tag: 1)
                loop.scheduleTimer(afterMs: 0) { _ in seen.withLock { $0 = completed } }
            }
        })
        #expect(waitUntil { seen.withLock { $0 } != nil })
        #expect(seen.withLock { $0 } == 3)
    }

    @Test func failedOperationReportsTheKernelError() throws {
        let group = try EventLoopGroup(loopCount: 1)
        group.start()
        let result = Mutex<Int32?>(nil)
        let loop = group.loops[0]
        #expect(loop.post {
            let probe = CompletionProbe { code in result.withLock { $0 = code } }
            let client = loop.ring!.register(probe)
            do {
                try loop.ring!.openat(directory: AT_FDCWD, path: probe.missingPath, flags: O_RDONLY, mode: 0,
                                     client: client, tag: 99)
            } catch {
                result.withLock { $0 = -((error as? Errno)?.rawValue ?? EINVAL) }
            }
        })
        #expect(waitUntil { result.withLock { $0 } != nil })
        group.shutdown()
        #expect(result.withLock { $0 } == -ENOENT)
    }

    /// Socket operations (the S3 store's path): send and recv complete with byte counts, and a
    /// recv with nothing to read ends with -ECANCELED once cancelled.
    @Test func ringSendsReceivesAndCancelsOnSockets() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        defer { fds.forEach { _ = close($0) } }
        let group = try EventLoopGroup(loopCount: 1)
        group.start()
        let results = Mutex<[UInt64: Int32]>([:])
        let message: [UInt8] = Array("hello".utf8)
        let sendBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: message.count, alignment: 1)
        sendBuffer.copyBytes(from: message)
        let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        let idleBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { [sendBuffer, receiveBuffer, idleBuffer].forEach { $0.deallocate() } }
        let (a, b) = (fds[0], fds[1])
        let buffers = LoopConfined((UnsafeRawBufferPointer(sendBuffer), receiveBuffer, idleBuffer))
        let loop = group.loops[0]
        #expect(loop.post {
            let ring = loop.ring!
            let handler = RecordingHandler { tag, result in results.withLock { $0[tag] = result } }
            let client = ring.register(handler)
            do {
                try ring.send(fd: a, bytes: buffers.value.0, client: client, tag: 1)
                try ring.recv(fd: b, into: buffers.value.1, client: client, tag: 2)
                try ring.recv(fd: a, into: buffers.value.2, client: client, tag: 3)  // nothing will come
                try ring.cancel(target: 3, client: client, tag: 4)
            } catch {
                results.withLock { $0[0] = -((error as? Errno)?.rawValue ?? EINVAL) }
            }
        })
        #expect(waitUntil { results.withLock { $0.count } == 4 })
        group.shutdown()
        #expect(results.withLock { $0 } == [1: 5, 2: 5, 3: -ECANCELED, 4: 0])
        #expect(Array(receiveBuffer.prefix(5)) == message)
    }

    @Test func ringBoundsInFlightOperationsAndSubmitsWhenTheQueueFills() throws {
        var configuration = EventLoopConfiguration()
        configuration.ringEntries = 4  // SQ 4, CQ 8: at most 8 operations in flight
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        group.start()
        defer { group.shutdown() }
        let loop = group.loops[0]
        let completed = Atomic<Int>(0)
        let accepted = Atomic<Int>(0)
        let refusal = Mutex<Errno?>(nil)
        let client = LoopConfined<RingClient?>(nil)
        #expect(loop.post {
            let counter = CountingHandler { completed.add(1, ordering: .relaxed) }
            client.value = loop.ring!.register(counter)
            for tag in 0..<9 {
                do {
                    try loop.ring!.nop(client: client.value!, tag: UInt64(tag))
                    accepted.add(1, ordering: .relaxed)
                } catch {
                    refusal.withLock { $0 = error as? Errno }
                }
            }
        })
        #expect(waitUntil { completed.load(ordering: .relaxed) == 8 })
        #expect(accepted.load(ordering: .relaxed) == 8)
        #expect(refusal.withLock { $0 } == .busy)
        #expect(loop.post { _ = try? loop.ring!.nop(client: client.value!, tag: 9) })
        #expect(waitUntil { completed.load(ordering: .relaxed) == 9 })
    }

    /// A handler that holds its loop (as the object stores do) is let go when the loop exits:
    /// registered for ever, it would keep itself, the loop and the ring alive.
    @Test func exitingLoopReleasesTheHandlersThatHoldIt() throws {
        let group = try EventLoopGroup(loopCount: 1)
        group.start()
        let released = Atomic<Bool>(false)
        let registered = Atomic<Bool>(false)
        let loop = group.loops[0]
        #expect(loop.post {
            let holder = LoopHoldingHandler(loop: loop) { released.store(true, ordering: .relaxed) }
            _ = loop.ring!.register(holder)
            registered.store(true, ordering: .relaxed)
        })
        #expect(waitUntil { registered.load(ordering: .relaxed) })
        let releasedBeforeExit = released.load(ordering: .relaxed)
        #expect(!releasedBeforeExit, "the ring keeps a registered handler")
        group.shutdown()
        let releasedAtExit = released.load(ordering: .relaxed)
        #expect(releasedAtExit)
    }
}

final class LoopHoldingHandler: RingCompletionHandler {
    let loop: EventLoop
    let onDeinit: () -> Void
    init(loop: EventLoop, onDeinit: @escaping () -> Void) { self.loop = loop; self.onDeinit = onDeinit }
    deinit { onDeinit() }
    func ringCompleted(tag: UInt64, result: Int32) {}
}

final class RecordingHandler: RingCompletionHandler {
    let completed: (UInt64, Int32) -> Void
    init(_ completed: @escaping (UInt64, Int32) -> Void) { self.completed = completed }
    func ringCompleted(tag: UInt64, result: Int32) { completed(tag, result) }
}

final class CountingHandler: RingCompletionHandler {
    let completed: () -> Void
    init(_ completed: @escaping () -> Void) { self.completed = completed }
    func ringCompleted(tag: UInt64, result: Int32) { completed() }
}

final class CompletionProbe: RingCompletionHandler {
    let missingPath = strdup("/nonexistent/runtime-tests/missing")!
    let completed: (Int32) -> Void

    init(_ completed: @escaping (Int32) -> Void) {
        self.completed = completed
    }

    deinit {
        free(missingPath)
    }

    func ringCompleted(tag: UInt64, result: Int32) {
        if tag == 99 { completed(result) }
    }
}

/// The filesystem uploader's sequence on one ring, as a state machine keyed by
/// tag: open temp → write+fsync+close (linked) → rename → open dir → fsync → close.
final class DurableWrite: RingCompletionHandler {
    struct Outcome: Sendable {
        var steps: [String] = []
        var failure: Errno?
        var failedStep: String?
    }

    private enum Step: UInt64 {
        case open = 1, write, fsync, close, rename, openDirectory, fsyncDirectory, closeDirectory
        var name: String {
            switch self {
            case .open: "openat"
            case .write: "write"
            case .fsync: "fsync"
            case .close: "close"
            case .rename: "renameat"
            case .openDirectory: "open dir"
            case .fsyncDirectory: "fsync dir"
            case .closeDirectory: "close dir"
            }
        }
    }

    private let ring: Ring
    private var client: RingClient!
    private let payload: [UInt8]
    private let directoryPath: UnsafeMutablePointer<CChar>
    private let temporaryPath: UnsafeMutablePointer<CChar>
    private let finalPath: UnsafeMutablePointer<CChar>
    private let finished: @Sendable (Outcome) -> Void
    private var outcome = Outcome()
    private var fileFD: Int32 = -1
    private var directoryFD: Int32 = -1

    init(ring: Ring, directory: String, temporaryName: String, finalName: String, payload: [UInt8],
         finished: @escaping @Sendable (Outcome) -> Void) {
        self.ring = ring
        self.payload = payload
        directoryPath = strdup(directory)
        temporaryPath = strdup(directory + "/" + temporaryName)
        finalPath = strdup(directory + "/" + finalName)
        self.finished = finished
    }

    deinit {
        free(directoryPath)
        free(temporaryPath)
        free(finalPath)
    }

    func start() {
        client = ring.register(self)  // the ring holds it until `finish` unregisters it
        submit(.open) { ring, client in
            try ring.openat(directory: AT_FDCWD, path: temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                            mode: 0o644, client: client, tag: Step.open.rawValue)
        }
    }

    func ringCompleted(tag: UInt64, result: Int32) {
        guard let step = Step(rawValue: tag), outcome.failure == nil else { return }
        guard result >= 0 else { return fail(step, Errno(rawValue: -result)) }
        outcome.steps.append(step.name)
        switch step {
        case .open:
            fileFD = result
            // One linked chain, submitted together: each starts only if the previous succeeded.
            submit(.write) { ring, client in
                try ring.reserve(3)
                try payload.withUnsafeBytes { bytes in
                    try ring.write(fd: fileFD, bytes: bytes, fileOffset: 0, client: client, tag: Step.write.rawValue, linked: true)
                }
                try ring.fsync(fd: fileFD, client: client, tag: Step.fsync.rawValue, linked: true)
                try ring.close(fd: fileFD, client: client, tag: Step.close.rawValue)
            }
        case .write:
            if Int(result) != payload.count { fail(step, .noBufferSpace) }  // short write: a real uploader continues
        case .fsync:
            break
        case .close:
            submit(.rename) { ring, client in
                try ring.renameat(sourceDirectory: AT_FDCWD, source: temporaryPath, targetDirectory: AT_FDCWD,
                                  target: finalPath, client: client, tag: Step.rename.rawValue)
            }
        case .rename:
            submit(.openDirectory) { ring, client in
                try ring.openat(directory: AT_FDCWD, path: directoryPath, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                mode: 0, client: client, tag: Step.openDirectory.rawValue)
            }
        case .openDirectory:
            directoryFD = result
            submit(.fsyncDirectory) { ring, client in
                try ring.reserve(2)
                try ring.fsync(fd: directoryFD, client: client, tag: Step.fsyncDirectory.rawValue, linked: true)
                try ring.close(fd: directoryFD, client: client, tag: Step.closeDirectory.rawValue)
            }
        case .fsyncDirectory:
            break
        case .closeDirectory:
            finish()
        }
    }

    private func submit(_ step: Step, _ body: (Ring, RingClient) throws -> Void) {
        do {
            try body(ring, client)
        } catch let error as Errno {
            fail(step, error)
        } catch {
            fail(step, .invalidArgument)
        }
    }

    private func fail(_ step: Step, _ error: Errno) {
        outcome.failure = error
        outcome.failedStep = step.name
        finish()
    }

    private func finish() {
        ring.unregister(client)
        finished(outcome)
    }
}

struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/runtime-tests-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        path = String(cString: created)
    }

    func read(_ name: String) throws -> [UInt8] {
        let fd = open(path + "/" + name, O_RDONLY)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return bytes
    }

    func remove() {
        for name in ["block.bin", "block.bin.tmp"] { unlink(path + "/" + name) }
        rmdir(path)
    }
}
