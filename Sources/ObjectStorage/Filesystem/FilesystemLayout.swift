import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where an object and its temporary twin live under the store's root, and the directory work
/// both filesystem stores share. Temporary files live in `<root>/.tmp/` (same filesystem, so the
/// rename is atomic), never under `segments/`, `dlq/` or `blocks/`: a process killed between
/// create and rename leaves its temporary file where no reader lists objects.
struct FilesystemLayout: Sendable {
    let root: String
    let prefix: String
    /// Shared by every copy of the layout (a ring store and its blocking fallback).
    let durable = DurableDirectories()
    /// Told each directory after its fsync succeeded (tests observe the syncs through it).
    let directorySynced: @Sendable (String) -> Void
    private static let temporaryCounter = Atomic<UInt64>(0)

    init(root: String, prefix: String, directorySynced: @escaping @Sendable (String) -> Void) {
        self.root = root
        self.prefix = prefix
        self.directorySynced = directorySynced
    }

    /// Created on demand by each put; its own entry need not be durable (temporaries are not).
    var temporaryDirectory: String { root + "/.tmp" }

    struct Target {
        var directory: String
        var final: String
        var temporary: String
    }

    func target(for path: String) throws(StorageError) -> Target {
        try ObjectPath.validate(path)
        let full = root + "/" + ObjectPath.join(prefix: prefix, path)
        let slash = full.lastIndex(of: "/")!
        let directory = String(full[..<slash])
        let name = full[full.index(after: slash)...]
        let unique = Self.temporaryCounter.add(1, ordering: .relaxed).newValue
        return Target(directory: directory, final: full, temporary: "\(temporaryDirectory)/\(name).tmp-\(getpid())-\(unique)")
    }

    /// What a put into a directory must sync besides that directory itself.
    struct DirectorySyncs {
        /// Parents whose entries must reach the disk before the put reports success.
        var parents: [String]
        /// Known durable once every sync of the put succeeded.
        var durableAfter: [String]
    }

    /// `mkdir -p target.directory`, and the parents to sync: that of every directory from the
    /// root down to the target's not yet known durable (and of any this call made above the
    /// root). Not only those this call made: an earlier attempt that failed after its `mkdir`,
    /// or one running beside this one, may have made them, and nobody synced their parents.
    /// The target's own directory (a segment's ULID, new each time) is not remembered.
    func prepareDirectories(for target: Target) throws(StorageError) -> DirectorySyncs {
        let made = try makeDirectories(target.directory)
        var path: [String] = []
        var current = target.directory
        while current.count > root.count, let slash = current.lastIndex(of: "/") {
            path.append(current)
            current = String(current[..<slash])
        }
        path.append(root)
        let unsynced = (path + made.filter { !path.contains($0) }).filter { !durable.contains($0) }
        var parents: [String] = []
        for directory in unsynced where !parents.contains(Self.parent(of: directory)) {
            parents.append(Self.parent(of: directory))
        }
        return DirectorySyncs(parents: parents, durableAfter: unsynced.filter { $0 != target.directory })
    }

    /// `mkdir -p directory`; returns the directories it made.
    @discardableResult
    func makeDirectories(_ directory: String) throws(StorageError) -> [String] {
        var missing: [String] = []
        var current = directory
        while !current.isEmpty, access(current, F_OK) != 0 {
            missing.append(current)
            guard let slash = current.lastIndex(of: "/") else { break }
            current = String(current[..<slash])
        }
        for dir in missing.reversed() {
            if mkdir(dir, 0o755) != 0, errno != EEXIST { throw .filesystem(operation: "mkdir", path: dir, errno: errno) }
        }
        return missing
    }

    static func parent(of directory: String) -> String {
        let parent = directory.lastIndex(of: "/").map { String(directory[..<$0]) } ?? "."
        return parent.isEmpty ? "/" : parent
    }

    func fsyncDirectory(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .filesystem(operation: "open directory", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .filesystem(operation: "fsync directory", path: path, errno: errno) }
        directorySynced(path)
    }
}

/// A store's directories whose entries are known durable: each was synced into its parent
/// after it was made, and so were its ancestors up to the root. Bounded: past `countMax` no
/// more are remembered, and puts sync those again (correct, only slower).
final class DurableDirectories: Sendable {
    static let countMax = 1 << 16
    private let known = Mutex<Set<String>>([])

    func contains(_ directory: String) -> Bool { known.withLock { $0.contains(directory) } }

    func insert(_ directories: [String]) {
        known.withLock { known in
            for directory in directories where known.count < Self.countMax { known.insert(directory) }
        }
    }
}
