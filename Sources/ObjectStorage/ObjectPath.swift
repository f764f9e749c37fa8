/// Checks the object paths handed to a store (segment-object.md §2: `segments/<shard>/anonymous/<id>/block.bin`,
/// `dlq/...`): relative, `/`-separated, no empty, `.` or `..` parts, no NUL. The same rule for
/// both backends, so a path that works on the filesystem works on S3 and cannot escape the root.
enum ObjectPath {
    static let bytesMax = 1024  // S3's key length limit

    static func validate(_ path: String) throws(StorageError) {
        guard !path.isEmpty, path.utf8.count <= bytesMax, !path.utf8.contains(0) else { throw .invalidPath(path) }
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part != ".", part != ".." else { throw .invalidPath(path) }
        }
    }

    /// `prefix/path`, or `path` when the prefix is empty; slashes around the prefix are trimmed.
    static func join(prefix: String, _ path: String) -> String {
        let trimmed = prefix.split(separator: "/").joined(separator: "/")
        return trimmed.isEmpty ? path : trimmed + "/" + path
    }
}
