/// Why a byte sequence could not be decoded. Readers never trap on bad input:
/// every bound is checked and a violation becomes one of these.
public struct DecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case truncated
        case malformed
        case checksum
        case unsupported
        case limitExceeded
    }

    public var kind: Kind
    /// Byte offset of the problem, relative to `context`'s innermost region.
    public var offset: Int
    public var message: String
    /// Outermost first, e.g. ["dataset 2", "index.tsdb", "series"].
    public var context: [String]

    public init(_ kind: Kind, at offset: Int, _ message: String, context: [String] = []) {
        self.kind = kind
        self.offset = offset
        self.message = message
        self.context = context
    }

    /// The same error seen from an enclosing region that starts `base` bytes earlier.
    public func inRegion(_ name: String, base: Int = 0) -> DecodeError {
        DecodeError(kind, at: offset + base, message, context: [name] + context)
    }

    public var description: String {
        let path = context.isEmpty ? "" : context.joined(separator: " / ") + ": "
        return "\(path)\(kind.rawValue) at offset \(offset): \(message)"
    }
}
