@testable import ObjectStorage
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/objectstorage-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    func remove() {
        _ = path.withCString { system("rm -rf '\(String(cString: $0))'") }
    }

    /// Every file name under `path`, relative, sorted.
    func files() -> [String] {
        var out: [String] = []
        func walk(_ dir: String, _ relative: String) {
            guard let handle = opendir(dir) else { return }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name == "." || name == ".." { continue }
                let rel = relative.isEmpty ? name : relative + "/" + name
                if entry.pointee.d_type == UInt8(DT_DIR) { walk(dir + "/" + name, rel) } else { out.append(rel) }
            }
        }
        walk(path, "")
        return out.sorted()
    }
}

func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

/// `.tmp` as a plain file: a put makes its object's directories, then fails to open its temporary.
func blockTemporaries(_ root: String) throws {
    let fd = open(root + "/.tmp", O_WRONLY | O_CREAT, 0o644)
    try #require(fd >= 0)
    close(fd)
}

/// What the first put of `path` into a fresh store must sync: the parent of every directory
/// from the root down to the object's (the root's own parent too), and the object's directory.
func directoriesSyncedByAFirstPut(root: String, _ path: String) -> [String] {
    var synced = [root.split(separator: "/").dropLast().reduce("") { $0 + "/" + $1 }, root]
    var directory = root
    for part in path.split(separator: "/").dropLast() {
        directory += "/" + part
        synced.append(directory)
    }
    return synced
}

func putSync(_ store: some ObjectStore, _ path: String, _ bytes: [UInt8]) -> Result<Void, StorageError> {
    var result: Result<Void, StorageError>?
    store.put(path, bytes) { result = $0 }
    return result!
}

func getSync(_ store: some ObjectStore, _ path: String) -> Result<[UInt8], StorageError> {
    var result: Result<[UInt8], StorageError>?
    store.get(path) { result = $0 }
    return result!
}

@Suite struct FilesystemObjectStoreTests {
    static let segmentPath = "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin"

    @Test func objectAppearsCompleteUnderPrefixWithNoTemporaryLeft() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let store = FilesystemObjectStore(root: scratch.path + "/data", prefix: "/tenant-a/")
        let payload = testBytes(1 << 20, seed: 1)
        try putSync(store, Self.segmentPath, payload).get()
        try putSync(store, "dlq/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/meta.pb", [1, 2, 3]).get()
        #expect(scratch.files() == [
            "data/tenant-a/dlq/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/meta.pb",
            "data/tenant-a/" + Self.segmentPath,
        ])
        #expect(try FilesystemObjectStore.readFile(scratch.path + "/data/tenant-a/" + Self.segmentPath) == payload)
        #expect(try getSync(store, Self.segmentPath).get() == payload)
    }

    @Test func pathsUnderADirectoryAreListedWithoutThePrefix() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let store = FilesystemObjectStore(root: scratch.path + "/data", prefix: "tenant-a")
        let other = FilesystemObjectStore(root: scratch.path + "/data", prefix: "tenant-b")
        let second = "segments/12/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ2/block.bin"
        for path in [second, Self.segmentPath, "dlq/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/meta.pb"] {
            try putSync(store, path, [7]).get()
        }
        try putSync(other, "segments/9/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ9/block.bin", [7]).get()
        // A directory without files is not an object; a symbolic link is not followed.
        #expect(mkdir(scratch.path + "/data/tenant-a/segments/5", 0o755) == 0)
        #expect(symlink(scratch.path + "/data/tenant-b/segments", scratch.path + "/data/tenant-a/segments/6") == 0)
        #expect(try store.paths(under: "segments") == [Self.segmentPath, second])
        #expect(try store.paths(under: "dlq") == ["dlq/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/meta.pb"])
        #expect(try store.paths(under: "absent").isEmpty)
        #expect(throws: StorageError.invalidPath("../tenant-b")) { try store.paths(under: "../tenant-b") }
    }

    @Test func overwriteReplacesTheWholeObject() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let store = FilesystemObjectStore(root: scratch.path)
        try putSync(store, "segments/2/x/block.bin", testBytes(5000, seed: 2)).get()
        try putSync(store, "segments/2/x/block.bin", [9]).get()
        #expect(try getSync(store, "segments/2/x/block.bin").get() == [9])
        #expect(scratch.files() == ["segments/2/x/block.bin"])
    }

    @Test func failedPutLeavesNoTemporaryAndNoObject() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let store = FilesystemObjectStore(root: scratch.path)
        // A directory where the object should go makes the rename fail after the data was written.
        _ = mkdir(scratch.path + "/segments", 0o755)
        _ = mkdir(scratch.path + "/segments/block.bin", 0o755)
        _ = mkdir(scratch.path + "/segments/block.bin/occupied", 0o755)
        let result = putSync(store, "segments/block.bin", testBytes(100, seed: 3))
        guard case .failure(.filesystem(operation: "rename", _, _)) = result else {
            Issue.record("expected a rename failure, got \(result)")
            return
        }
        #expect(scratch.files().isEmpty)
    }

    /// A put that failed after making the object's directories (the temporary could not be
    /// opened: `.tmp` is a plain file) synced none of their parents; the retry finds them made
    /// and must sync them before it reports success. Later puts sync only what is new.
    @Test func aRetryAfterAPutFailedPastItsMkdirSyncsTheDirectoriesThatPutMade() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let synced = Mutex<[String]>([])
        let store = FilesystemObjectStore(root: scratch.path, prefix: "", directorySynced: { d in synced.withLock { $0.append(d) } })
        try blockTemporaries(scratch.path)
        guard case .failure(.filesystem(operation: "open", _, ENOTDIR)) = putSync(store, Self.segmentPath, [1]) else {
            Issue.record("expected the temporary's open to fail")
            return
        }
        unlink(scratch.path + "/.tmp")
        try putSync(store, Self.segmentPath, [1]).get()
        #expect(Set(synced.withLock { $0 }) == Set(directoriesSyncedByAFirstPut(root: scratch.path, Self.segmentPath)))

        synced.withLock { $0.removeAll() }
        try putSync(store, "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ2/block.bin", [2]).get()
        #expect(synced.withLock { $0 }.sorted() == ["anonymous", "anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ2"].map { scratch.path + "/segments/1/" + $0 })
    }

    @Test(arguments: ["", "/abs", "a//b", "a/../b", "./a", "a/", "a/.", "seg\0ments"])
    func invalidPathsAreRefused(_ path: String) {
        let store = FilesystemObjectStore(root: "/nonexistent")
        guard case .failure(.invalidPath) = putSync(store, path, [1]) else {
            Issue.record("\(path) accepted")
            return
        }
    }

    @Test func healthCheckCreatesTheRootAndMissingObjectsFail() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let store = FilesystemObjectStore(root: scratch.path + "/new/root")
        var health: Result<Void, StorageError>?
        store.checkHealth { health = $0 }
        try health!.get()
        #expect(access(scratch.path + "/new/root", W_OK) == 0)
        guard case .failure(.filesystem(_, _, ENOENT)) = getSync(store, "segments/none") else {
            Issue.record("missing object did not fail with ENOENT")
            return
        }
    }
}

@Suite struct StorageConfigurationTests {
    @Test func backendFlagSelectsTheStore() throws {
        #expect(try StorageConfiguration(backend: .filesystem, prefix: "p").makeBlockingStore() is FilesystemObjectStore)
        #expect(throws: StorageError.self) { try StorageConfiguration(backend: .s3).makeBlockingStore() }
        let s3 = S3Configuration(endpoint: "127.0.0.1:9", bucketName: "b", credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"),
                                 insecure: true)
        #expect(try StorageConfiguration(backend: .s3, s3: s3).makeBlockingStore() is S3ObjectStore)
        #expect(StorageBackend(rawValue: "s3") == .s3 && S3BucketLookup(rawValue: "virtual-hosted-style") == .virtualHostedStyle)
    }
}
