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
    private static let temporaryCounter = Atomic<UInt64>(0)

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

    /// `mkdir -p directory`; returns the parents whose entries changed (each new directory's
    /// parent), which must be fsynced for the new directories to survive a crash.
    func makeDirectories(_ directory: String) throws(StorageError) -> [String] {
        var changedParents: [String] = []
        var missing: [String] = []
        var current = directory
        while !current.isEmpty, access(current, F_OK) != 0 {
            missing.append(current)
            guard let slash = current.lastIndex(of: "/") else { break }
            current = String(current[..<slash])
        }
        for dir in missing.reversed() {
            if mkdir(dir, 0o755) != 0, errno != EEXIST { throw .filesystem(operation: "mkdir", path: dir, errno: errno) }
            let parent = dir.lastIndex(of: "/").map { String(dir[..<$0]) } ?? "."
            changedParents.append(parent.isEmpty ? "/" : parent)
        }
        return changedParents
    }

    static func fsyncDirectory(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .filesystem(operation: "open directory", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .filesystem(operation: "fsync directory", path: path, errno: errno) }
    }
}
