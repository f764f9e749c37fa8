import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `-storage.backend=filesystem` driven by a loop's io_uring `Ring`: the same durable sequence as
/// `FilesystemObjectStore` (open temp → write → fsync → close → rename → open dir → fsync dir →
/// close dir, and the parents of the directories on its path not yet known durable), each step
/// one ring operation whose completion starts the next. Those parents are synced by chains of
/// their own (open → fsync → close) that start with the put and run beside the file's chain:
/// their entries exist once `mkdir` returned, so nothing orders them after the file, and a put
/// waits for about two fsyncs (the file's, then its directory's) instead of one per directory
/// in a row. The put completes when every chain has: the object is complete and durable under
/// its final name before the completion runs; on failure the temporary file is removed.
///
/// Confined to the ring's loop: call `put` on that loop's thread; completions run there too.
/// The ring holds the store as its completion handler, so the store (and every buffer the kernel
/// may still read) lives as long as the ring: make one per loop, at start-up.
/// Directory creation (`mkdir`) and the cold paths `get`/`checkHealth` use blocking POSIX calls,
/// as `Ring` has no mkdir operation.
public final class RingFilesystemObjectStore: ObjectStore, RingCompletionHandler {
    let layout: FilesystemLayout
    let fallback: FilesystemObjectStore
    private let ring: Ring
    private var client: RingClient!
    /// One entry per running chain (a put runs one or more).
    private var chains: [UInt64: PutChain] = [:]
    private var nextTag: UInt64 = 1
    public var inFlight: Int { chains.count }

    public convenience init(ring: Ring, root: String, prefix: String = "") {
        self.init(ring: ring, root: root, prefix: prefix, directorySynced: { _ in })
    }

    init(ring: Ring, root: String, prefix: String, directorySynced: @escaping @Sendable (String) -> Void) {
        self.ring = ring
        fallback = FilesystemObjectStore(root: root, prefix: prefix, directorySynced: directorySynced)
        layout = fallback.layout
        client = ring.register(self)
    }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        let put: DurablePut
        do throws(StorageError) {
            let target = try layout.target(for: path)
            try layout.makeDirectories(layout.temporaryDirectory)
            put = DurablePut(target: target, syncs: try layout.prepareDirectories(for: target), bytes: bytes, completion: completion)
        } catch {
            return completion(.failure(error))
        }
        // Every chain counts before any starts: one failing to prepare must not complete the put.
        put.chainsRunning = 1 + put.parents.count
        let file = PutChain(put, directory: nil)
        start(file) { (ring: Ring, client: RingClient, tag: UInt64) throws(Errno) in
            try ring.openat(directory: AT_FDCWD, path: put.temporaryPath, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                            mode: 0o644, client: client, tag: tag)
        }
        for parent in put.parents { syncDirectory(PutChain(put, directory: parent)) }
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        fallback.get(path, completion: completion)
    }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        fallback.checkHealth(completion: completion)
    }

    public func ringCompleted(tag: UInt64, result: Int32) {
        guard let chain = chains[tag] else { return }
        if chain.step == .syncCloseRename { return syncCloseRenameCompleted(tag, chain, result) }
        guard result >= 0 else { return fail(tag, chain, errno: -result) }
        let put = chain.put
        switch chain.step {
        case .openTemporary:
            chain.fd = result
            writeNext(tag, chain)
        case .write:
            put.written += Int(result)
            guard result > 0 || put.written == put.bytes.count else { return fail(tag, chain, errno: EIO) }
            writeNext(tag, chain)
        case .syncCloseRename:
            preconditionFailure("handled above")
        case .openDirectory:
            chain.fd = result
            chain.step = .fsyncDirectory
            submit(tag, chain) { (ring: Ring, client: RingClient) throws(Errno) in try ring.fsync(fd: chain.fd, client: client, tag: tag) }
        case .fsyncDirectory:
            layout.directorySynced(String(cString: chain.directory!))
            chain.step = .closeDirectory
            submit(tag, chain) { (ring: Ring, client: RingClient) throws(Errno) in try ring.close(fd: chain.fd, client: client, tag: tag) }
        case .closeDirectory:
            chain.fd = -1
            end(tag, chain)
        }
    }

    /// The file's fsync, close and rename go to the kernel as one linked chain: the close and
    /// the rename start there as soon as the fsync is done, instead of after a trip back to the
    /// loop each (under load such a trip waits for the event being handled). Their completions
    /// arrive in that order; after a failure the rest arrive cancelled, and the chain has ended
    /// at the first (a cancelled close leaves the descriptor to `fail`).
    private func syncCloseRename(_ tag: UInt64, _ chain: PutChain) {
        let put = chain.put
        chain.step = .syncCloseRename
        chain.linkedCompletions = 0
        submit(tag, chain) { (ring: Ring, client: RingClient) throws(Errno) in
            try ring.reserve(3)
            try ring.fsync(fd: chain.fd, client: client, tag: tag, linked: true)
            try ring.close(fd: chain.fd, client: client, tag: tag, linked: true)
            try ring.renameat(sourceDirectory: AT_FDCWD, source: put.temporaryPath, targetDirectory: AT_FDCWD,
                              target: put.finalPath, client: client, tag: tag)
        }
    }

    private func syncCloseRenameCompleted(_ tag: UInt64, _ chain: PutChain, _ result: Int32) {
        let put = chain.put
        chain.linkedCompletions += 1
        switch chain.linkedCompletions {
        case 1:
            guard result >= 0 else { return fail(tag, chain, errno: -result, operation: "fsync") }
        case 2:
            if result != -ECANCELED { chain.fd = -1 }
            guard result >= 0 else { return fail(tag, chain, errno: -result, operation: "close") }
        default:
            guard result >= 0 else { return fail(tag, chain, errno: -result, operation: "rename") }
            put.renamed = true
            chain.directory = put.targetDirectory
            chain.step = .openDirectory
            openDirectory(tag, chain)
        }
    }

    /// Starts a chain that syncs `chain.directory`.
    private func syncDirectory(_ chain: PutChain) {
        chain.step = .openDirectory
        start(chain) { (ring: Ring, client: RingClient, tag: UInt64) throws(Errno) in
            try ring.openat(directory: AT_FDCWD, path: chain.directory!, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0,
                            client: client, tag: tag)
        }
    }

    private func openDirectory(_ tag: UInt64, _ chain: PutChain) {
        submit(tag, chain) { (ring: Ring, client: RingClient) throws(Errno) in
            try ring.openat(directory: AT_FDCWD, path: chain.directory!, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0,
                            client: client, tag: tag)
        }
    }

    private func writeNext(_ tag: UInt64, _ chain: PutChain) {
        let put = chain.put
        if put.written == put.bytes.count { return syncCloseRename(tag, chain) }
        chain.step = .write
        let chunk = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(put.bytes)[put.written..<min(put.bytes.count, put.written + DurablePut.writeBytesMax)])
        submit(tag, chain) { (ring: Ring, client: RingClient) throws(Errno) in
            try ring.write(fd: chain.fd, bytes: chunk, fileOffset: UInt64(put.written), client: client, tag: tag)
        }
    }

    /// Registers `chain` under a new tag and prepares its first operation (the put counted it).
    private func start(_ chain: PutChain, _ prepare: (Ring, RingClient, UInt64) throws(Errno) -> Void) {
        let tag = nextTag
        nextTag = nextTag == Ring.tagMax ? 1 : nextTag + 1
        chains[tag] = chain
        submit(tag, chain) { (ring: Ring, client: RingClient) throws(Errno) in try prepare(ring, client, tag) }
    }

    private func submit(_ tag: UInt64, _ chain: PutChain, _ prepare: (Ring, RingClient) throws(Errno) -> Void) {
        do {
            try prepare(ring, client)
        } catch {
            fail(tag, chain, errno: error.rawValue, operation: "ring prepare (\(chain.step))")
        }
    }

    private func fail(_ tag: UInt64, _ chain: PutChain, errno code: Int32, operation: String? = nil) {
        if chain.fd >= 0 { Glibc.close(chain.fd) }
        chain.fd = -1
        let put = chain.put
        if put.error == nil {
            let path = chain.directory.map { String(cString: $0) } ?? put.target.temporary
            put.error = .filesystem(operation: operation ?? "\(chain.step)", path: path, errno: code)
        }
        end(tag, chain)
    }

    /// Ends `chain`; the put completes with its last chain (the temporary is removed when it
    /// failed before the rename).
    private func end(_ tag: UInt64, _ chain: PutChain) {
        chains[tag] = nil
        let put = chain.put
        put.chainsRunning -= 1
        guard put.chainsRunning == 0 else { return }
        guard let error = put.error else {
            layout.durable.insert(put.durableAfter)
            return put.completion(.success(()))
        }
        if !put.renamed { unlink(put.temporaryPath) }
        put.completion(.failure(error))
    }
}

/// One chain of ring operations of a put: the file's (from the temporary's open to the sync of
/// its directory) or the sync of one parent on its path.
private final class PutChain {
    enum Step: CustomStringConvertible {
        case openTemporary, write, syncCloseRename, openDirectory, fsyncDirectory, closeDirectory
        var description: String {
            switch self {
            case .openTemporary: "open"
            case .write: "write"
            case .syncCloseRename: "fsync, close and rename"
            case .openDirectory: "open directory"
            case .fsyncDirectory: "fsync directory"
            case .closeDirectory: "close directory"
            }
        }
    }

    let put: DurablePut
    var step = Step.openTemporary
    var fd: Int32 = -1
    /// Completions of the linked fsync, close and rename seen so far.
    var linkedCompletions = 0
    /// The directory this chain syncs (the file's chain: set at its rename).
    var directory: UnsafeMutablePointer<CChar>?

    init(_ put: DurablePut, directory: UnsafeMutablePointer<CChar>?) {
        self.put = put
        self.directory = directory
    }
}

/// One put in flight: the C strings and bytes the kernel reads (kept alive here until every
/// chain completed), what the file's chain has done, and the first error of any chain.
private final class DurablePut {
    /// One ring write moves at most this much (the kernel may write less; the rest follows).
    static let writeBytesMax = 1 << 30

    let target: FilesystemLayout.Target
    let bytes: UnsafeMutableRawBufferPointer
    private let storage: UnsafeMutableRawBufferPointer
    let temporaryPath: UnsafeMutablePointer<CChar>
    let finalPath: UnsafeMutablePointer<CChar>
    let targetDirectory: UnsafeMutablePointer<CChar>
    /// The parents of the directories on its path not yet known durable (a sync each).
    let parents: [UnsafeMutablePointer<CChar>]
    let durableAfter: [String]
    let completion: (Result<Void, StorageError>) -> Void
    var written = 0
    var renamed = false
    var chainsRunning = 0
    var error: StorageError?

    init(target: FilesystemLayout.Target, syncs: FilesystemLayout.DirectorySyncs, bytes source: [UInt8],
         completion: @escaping (Result<Void, StorageError>) -> Void) {
        self.target = target
        // A stable copy: the kernel reads it after `put` has returned.
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, source.count), alignment: 16)
        source.withUnsafeBytes { storage.copyMemory(from: $0) }
        self.storage = storage
        bytes = UnsafeMutableRawBufferPointer(rebasing: storage[..<source.count])
        temporaryPath = strdup(target.temporary)
        finalPath = strdup(target.final)
        targetDirectory = strdup(target.directory)
        parents = syncs.parents.map { strdup($0) }
        durableAfter = syncs.durableAfter
        self.completion = completion
    }

    deinit {
        storage.deallocate()
        free(temporaryPath)
        free(finalPath)
        free(targetDirectory)
        parents.forEach { free($0) }
    }
}
