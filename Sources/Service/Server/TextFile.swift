import ObjectStorage
#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole file (configuration at start-up, objects in tests), as the filesystem store reads one.
public enum TextFile {
    public struct ReadError: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public var description: String { String(cString: strerror(errno)) }
    }

    public static func read(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    public static func readBytes(_ path: String) throws -> [UInt8] {
        do {
            return try FilesystemObjectStore.readFile(path)
        } catch {
            guard case .filesystem(_, _, let code) = error else { throw error }
            throw ReadError(path: path, errno: code)
        }
    }
}
