import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `-storage.backend=filesystem` driven by a loop's io_uring `Ring`: the same durable sequence as
/// `FilesystemObjectStore` (open temp → write → fsync → close → rename → open dir → fsync dir →
/// close dir, then the parents of new directories), each step one ring operation whose completion
/// starts the next. The object is complete and durable under its final name before the completion
/// runs; on failure the temporary file is removed.
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
    private var operations: [UInt64: DurablePut] = [:]
    private var nextTag: UInt64 = 1
    public var inFlight: Int { operations.count }

    public init(ring: Ring, root: String, prefix: String = "") {
        self.ring = ring
        fallback = FilesystemObjectStore(root: root, prefix: prefix)
        layout = fallback.layout
        client = ring.register(self)
    }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        let operation: DurablePut
        do throws(StorageError) {
            let target = try layout.target(for: path)
            _ = try layout.makeDirectories(layout.temporaryDirectory)
            let changedParents = try layout.makeDirectories(target.directory)
            let directories = [target.directory] + changedParents.reversed().filter { $0 != target.directory }
            operation = DurablePut(target: target, directories: directories, bytes: bytes, completion: completion)
        } catch {
            return completion(.failure(error))
        }
        let tag = nextTag
        nextTag = nextTag == Ring.tagMax ? 1 : nextTag + 1
        operations[tag] = operation
        submit(tag, operation) { (ring: Ring, client: RingClient) throws(Errno) in
            try ring.openat(directory: AT_FDCWD, path: operation.temporaryPath, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                            mode: 0o644, client: client, tag: tag)
        }
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        fallback.get(path, completion: completion)
    }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        fallback.checkHealth(completion: completion)
    }

    public func ringCompleted(tag: UInt64, result: Int32) {
        guard let op = operations[tag] else { return }
        guard result >= 0 else { return fail(tag, op, errno: -result) }
        switch op.step {
        case .openTemporary:
            op.fd = result
            writeNext(tag, op)
        case .write:
            op.written += Int(result)
            guard result > 0 || op.written == op.bytes.count else { return fail(tag, op, errno: EIO) }
            writeNext(tag, op)
        case .fsync:
            op.step = .close
            submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in try ring.close(fd: op.fd, client: client, tag: tag) }
        case .close:
            op.fd = -1
            op.step = .rename
            submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in
                try ring.renameat(sourceDirectory: AT_FDCWD, source: op.temporaryPath, targetDirectory: AT_FDCWD,
                                  target: op.finalPath, client: client, tag: tag)
            }
        case .rename:
            op.renamed = true
            syncNextDirectory(tag, op)
        case .openDirectory:
            op.fd = result
            op.step = .fsyncDirectory
            submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in try ring.fsync(fd: op.fd, client: client, tag: tag) }
        case .fsyncDirectory:
            op.step = .closeDirectory
            submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in try ring.close(fd: op.fd, client: client, tag: tag) }
        case .closeDirectory:
            op.fd = -1
            syncNextDirectory(tag, op)
        }
    }

    private func writeNext(_ tag: UInt64, _ op: DurablePut) {
        if op.written == op.bytes.count {
            op.step = .fsync
            return submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in try ring.fsync(fd: op.fd, client: client, tag: tag) }
        }
        op.step = .write
        let chunk = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(op.bytes)[op.written..<min(op.bytes.count, op.written + DurablePut.writeBytesMax)])
        submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in
            try ring.write(fd: op.fd, bytes: chunk, fileOffset: UInt64(op.written), client: client, tag: tag)
        }
    }

    private func syncNextDirectory(_ tag: UInt64, _ op: DurablePut) {
        guard op.nextDirectory < op.directories.count else {
            operations[tag] = nil
            return op.completion(.success(()))
        }
        let directory = op.directories[op.nextDirectory]
        op.nextDirectory += 1
        op.step = .openDirectory
        submit(tag, op) { (ring: Ring, client: RingClient) throws(Errno) in
            try ring.openat(directory: AT_FDCWD, path: directory, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0,
                            client: client, tag: tag)
        }
    }

    private func submit(_ tag: UInt64, _ op: DurablePut, _ prepare: (Ring, RingClient) throws(Errno) -> Void) {
        do {
            try prepare(ring, client)
        } catch {
            fail(tag, op, errno: error.rawValue, operation: "ring prepare (\(op.step))")
        }
    }

    private func fail(_ tag: UInt64, _ op: DurablePut, errno code: Int32, operation: String? = nil) {
        operations[tag] = nil
        if op.fd >= 0 { Glibc.close(op.fd) }
        if !op.renamed { unlink(op.temporaryPath) }
        let path = op.renamed ? String(cString: op.directoryPath(op.nextDirectory - 1)) : op.target.temporary
        op.completion(.failure(.filesystem(operation: operation ?? "\(op.step)", path: path, errno: code)))
    }
}

/// One put in flight: its step, the open descriptor, and the C strings and bytes the kernel reads
/// (kept alive here until the operation completes).
private final class DurablePut {
    enum Step: CustomStringConvertible {
        case openTemporary, write, fsync, close, rename, openDirectory, fsyncDirectory, closeDirectory
        var description: String {
            switch self {
            case .openTemporary: "open"
            case .write: "write"
            case .fsync: "fsync"
            case .close: "close"
            case .rename: "rename"
            case .openDirectory: "open directory"
            case .fsyncDirectory: "fsync directory"
            case .closeDirectory: "close directory"
            }
        }
    }

    /// One ring write moves at most this much (the kernel may write less; the rest follows).
    static let writeBytesMax = 1 << 30

    let target: FilesystemLayout.Target
    let bytes: UnsafeMutableRawBufferPointer
    private let storage: UnsafeMutableRawBufferPointer
    let temporaryPath: UnsafeMutablePointer<CChar>
    let finalPath: UnsafeMutablePointer<CChar>
    let directories: [UnsafeMutablePointer<CChar>]
    let completion: (Result<Void, StorageError>) -> Void
    var step = Step.openTemporary
    var fd: Int32 = -1
    var written = 0
    var renamed = false
    var nextDirectory = 0

    init(target: FilesystemLayout.Target, directories: [String], bytes source: [UInt8],
         completion: @escaping (Result<Void, StorageError>) -> Void) {
        self.target = target
        // A stable copy: the kernel reads it after `put` has returned.
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, source.count), alignment: 16)
        source.withUnsafeBytes { storage.copyMemory(from: $0) }
        self.storage = storage
        bytes = UnsafeMutableRawBufferPointer(rebasing: storage[..<source.count])
        temporaryPath = strdup(target.temporary)
        finalPath = strdup(target.final)
        self.directories = directories.map { strdup($0) }
        self.completion = completion
    }

    func directoryPath(_ index: Int) -> UnsafeMutablePointer<CChar> { directories[max(0, index)] }

    deinit {
        storage.deallocate()
        free(temporaryPath)
        free(finalPath)
        directories.forEach { free($0) }
    }
}
