#if canImport(Glibc)
import Glibc
#endif

/// `-storage.backend=filesystem` with plain blocking POSIX calls (start-up, tools, tests, and
/// loops without io_uring). A put writes a temporary file in `<root>/.tmp/`, fsyncs it, renames
/// it into place and fsyncs the directory, and the parent of each directory on its path not yet
/// known durable (`FilesystemLayout.prepareDirectories`): the object is complete and durable
/// before success is reported, and its final name never shows a partial object. On failure the
/// temporary file is removed.
public final class FilesystemObjectStore: ListableObjectStore {
    let layout: FilesystemLayout

    /// - Parameters:
    ///   - root: `-storage.filesystem.dir` (default `./data`); created if missing.
    ///   - prefix: `-storage.prefix`.
    public convenience init(root: String, prefix: String = "") {
        self.init(root: root, prefix: prefix, directorySynced: { _ in })
    }

    init(root: String, prefix: String, directorySynced: @escaping @Sendable (String) -> Void) {
        layout = FilesystemLayout(root: root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root, prefix: prefix,
                                  directorySynced: directorySynced)
    }

    public func put(_ path: String, _ bytes: [UInt8], completion: @escaping (Result<Void, StorageError>) -> Void) {
        completion(Result { () throws(StorageError) in try putDurably(path, bytes) })
    }

    public func get(_ path: String, completion: @escaping (Result<[UInt8], StorageError>) -> Void) {
        completion(Result { () throws(StorageError) in
            let target = try layout.target(for: path)
            return try Self.readFile(target.final)
        })
    }

    public func checkHealth(completion: @escaping (Result<Void, StorageError>) -> Void) {
        completion(Result { () throws(StorageError) in
            try layout.makeDirectories(layout.root)
            guard access(layout.root, W_OK) == 0 else { throw .filesystem(operation: "access", path: layout.root, errno: errno) }
        })
    }

    /// The regular files below `root/prefix/directory`, walked with `readdir` (a missing
    /// directory holds nothing; symbolic links are not followed).
    public func paths(under directory: String) throws(StorageError) -> [String] {
        try ObjectPath.validate(directory)
        var paths: [String] = []
        try Self.walk(layout.root + "/" + ObjectPath.join(prefix: layout.prefix, directory), relative: directory, into: &paths)
        return paths.sorted()
    }

    private static func walk(_ folder: String, relative: String, into paths: inout [String]) throws(StorageError) {
        guard let dir = opendir(folder) else {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw .filesystem(operation: "opendir", path: folder, errno: errno)
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            switch Self.kind(entry.pointee.d_type, folder + "/" + name) {
            case Int32(DT_DIR): try walk(folder + "/" + name, relative: relative + "/" + name, into: &paths)
            case Int32(DT_REG): paths.append(relative + "/" + name)
            default: continue
            }
        }
    }

    /// The entry's type from `readdir`, or from `lstat` where the filesystem leaves it unknown.
    private static func kind(_ type: UInt8, _ path: String) -> Int32 {
        guard Int32(type) == Int32(DT_UNKNOWN) else { return Int32(type) }
        var st = stat()
        guard lstat(path, &st) == 0 else { return Int32(DT_UNKNOWN) }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return Int32(DT_DIR)
        case S_IFREG: return Int32(DT_REG)
        default: return Int32(DT_UNKNOWN)
        }
    }

    private func putDurably(_ path: String, _ bytes: [UInt8]) throws(StorageError) {
        let target = try layout.target(for: path)
        try layout.makeDirectories(layout.temporaryDirectory)
        let syncs = try layout.prepareDirectories(for: target)
        let fd = open(target.temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .filesystem(operation: "open", path: target.temporary, errno: errno) }
        do throws(StorageError) {
            try Self.writeAll(fd, bytes, path: target.temporary)
            guard fsync(fd) == 0 else { throw StorageError.filesystem(operation: "fsync", path: target.temporary, errno: errno) }
            guard close(fd) == 0 else {
                throw StorageError.filesystem(operation: "close", path: target.temporary, errno: errno)
            }
        } catch {
            close(fd)
            unlink(target.temporary)
            throw error
        }
        guard rename(target.temporary, target.final) == 0 else {
            let code = errno
            unlink(target.temporary)
            throw .filesystem(operation: "rename", path: target.final, errno: code)
        }
        try layout.fsyncDirectory(target.directory)
        for parent in syncs.parents { try layout.fsyncDirectory(parent) }
        layout.durable.insert(syncs.durableAfter)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StorageError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .filesystem(operation: "write", path: path, errno: errno)
            }
            offset += n
        }
    }

    /// The whole file at `path` (an absolute or working-directory-relative file name); a file
    /// longer than `bytesMax` is refused (`EFBIG`) once that much has been read.
    public static func readFile(_ path: String, bytesMax: Int = .max) throws(StorageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .filesystem(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .filesystem(operation: "read", path: path, errno: errno)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[..<n])
            if out.count > bytesMax { throw .filesystem(operation: "read", path: path, errno: EFBIG) }
        }
    }
}
