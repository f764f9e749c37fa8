import BinaryCoding

/// gRPC status codes (grpc/grpc doc/statuscodes.md).
public enum GRPCStatusCode: UInt8, Sendable, CaseIterable {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
         permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented,
         internalError, unavailable, dataLoss, unauthenticated

    /// The `grpc-status` trailer value.
    public var headerValue: ByteString { ByteString(String(rawValue)) }
}

/// A call's outcome: code and the human-readable message (raw bytes, not percent-encoded).
public struct GRPCStatus: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: GRPCStatusCode
    public var message: ByteString

    public init(_ code: GRPCStatusCode, _ message: ByteString = .empty) {
        self.code = code
        self.message = message
    }

    public static let ok = GRPCStatus(.ok)
    public var description: String { "\(code)(\(code.rawValue)): \(message)" }
}

/// `grpc-message` percent-encoding (gRPC PROTOCOL-HTTP2: bytes outside 0x20...0x7E, and
/// '%', become %XX).
public enum GRPCPercentEncoding {
    public static func encode(_ s: ByteString) -> ByteString {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        for b in s.bytes {
            if b >= 0x20 && b <= 0x7e && b != UInt8(ascii: "%") {
                out.append(b)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]])
            }
        }
        return ByteString(out)
    }

    /// Lenient like grpc-go: a '%' not followed by two hex digits is kept as is.
    public static func decode(_ s: ByteString) -> ByteString {
        let b = s.bytes
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let hi = hexValue(b[i + 1]), let lo = hexValue(b[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return ByteString(out)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
