#if canImport(Glibc)
import Glibc
#endif

/// A failed system call's error number, as a typed error (swift-system's `Errno`, slimmed down).
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let busy = Errno(rawValue: EBUSY)
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    public static let invalidArgument = Errno(rawValue: EINVAL)
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)

    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: text)) (errno \(rawValue))"
    }
}

extension Errno {
    /// Turns a CShims result (>= 0 success, -errno failure) into a value or a thrown `Errno`.
    @inline(__always)
    static func check(_ result: Int32) throws(Errno) -> Int32 {
        if result < 0 { throw Errno(rawValue: -result) }
        return result
    }

    @inline(__always)
    static func check(_ result: Int) throws(Errno) -> Int {
        if result < 0 { throw Errno(rawValue: Int32(-result)) }
        return result
    }
}
