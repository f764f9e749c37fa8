import HTTP1

/// What the operational port's request parser promises whatever a client sends: no trap, and
/// while it waits for more it holds at most one request's worth of bytes (a head within its
/// limit and a body within its limit), so a client cannot make it buffer without bound. Fed
/// in reads of varying sizes; a parse error ends the connection, as the handler does.
public struct HTTP1RequestCheck {
    public static let maxHeadBytes = 1024
    public static let maxBodyBytes = 4096

    public struct Summary: Sendable, CustomStringConvertible {
        public var requests = 0
        public var error: HTTP1ParseError?
        public var description: String { "requests \(requests), error \(error.map { "\($0.status) \($0.reason)" } ?? "none")" }
    }

    public init() {}

    /// What the port's clients send (a read-size byte first): probes, a scrape, pipelined
    /// requests, a request with a body.
    public static let seeds: [(name: String, bytes: [UInt8])] = [
        ("ready", "\u{0}GET /ready HTTP/1.1\r\nHost: localhost:4040\r\nUser-Agent: kube-probe/1.30\r\n\r\n"),
        ("metrics", "\u{3}GET /metrics HTTP/1.1\r\nHost: localhost:4040\r\nAccept: text/plain;version=0.0.4\r\nAccept-Encoding: gzip\r\n\r\n"),
        ("pipelined", "\u{1}GET /ready HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"),
        ("body", "\u{7}POST /ready HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n"),
    ].map { ($0.0, Array($0.1.utf8)) }

    /// A client's bytes, in `SocketReads`.
    public func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> Summary {
        var parser = HTTP1RequestParser(maxHeadBytes: Self.maxHeadBytes, maxBodyBytes: Self.maxBodyBytes)
        var summary = Summary()
        for read in SocketReads(bytes) {
            parser.append(read)
            while true {
                let request: HTTP1Request?
                do throws(HTTP1ParseError) { request = try parser.next() } catch {
                    summary.error = error
                    return summary
                }
                guard let request else { break }
                summary.requests += 1
                guard request.body.count <= Self.maxBodyBytes else {
                    throw FuzzViolation("a request body of \(request.body.count) bytes passed the limit")
                }
            }
            guard parser.bufferedByteCount <= Self.maxHeadBytes + 4 + Self.maxBodyBytes else {
                throw FuzzViolation("\(parser.bufferedByteCount) bytes buffered while waiting for one request (\(summary))")
            }
        }
        return summary
    }
}
