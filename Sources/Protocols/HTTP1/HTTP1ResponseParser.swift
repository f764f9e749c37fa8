import BinaryCoding

/// A response as a client receives it.
public struct HTTP1ClientResponse: Sendable {
    public var status: Int
    public var reason: String
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// First value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Whether the connection may carry another request (HTTP/1.1 default keep-alive;
    /// a body delimited by the close never is).
    public var keepAlive: Bool

    public init(status: Int, reason: String, version: String = "HTTP/1.1", headers: [(name: String, value: String)] = [],
                body: [UInt8] = [], keepAlive: Bool = true) {
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}

/// Why a response could not be parsed. Any of these leaves the connection unusable.
public struct HTTP1ResponseParseError: Error, Equatable, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// Incremental, bounded HTTP/1.1 response parser (sans-I/O): `append` received bytes, take
/// complete responses with `next`. Bodies are delimited by Content-Length, chunked
/// transfer-coding or, without either, the connection's end (`finish`). The head may not exceed
/// `maxHeadBytes`, a body `maxBodyBytes`, a chunk-size or trailer line `maxLineBytes`.
/// Responses to HEAD, 1xx, 204 and 304 have no body (RFC 9112 §6.3); 1xx interim responses are skipped.
public struct HTTP1ResponseParser: Sendable {
    public let maxHeadBytes: Int
    public let maxBodyBytes: Int
    public let maxLineBytes = 4096

    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.head
    private var pending: HTTP1ClientResponse?

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    public init(maxHeadBytes: Int = 16 << 10, maxBodyBytes: Int = 64 << 20) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        // Drop consumed bytes once they are the larger part, so the buffer stays bounded.
        if start > 0, start * 2 >= buffer.count {
            buffer.removeSubrange(0 ..< start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete response to a request with `method`, nil if more bytes are needed.
    public mutating func next(requestMethod method: String) throws(HTTP1ResponseParseError) -> HTTP1ClientResponse? {
        while true {
            switch state {
            case .head:
                guard let head = try parseHead() else { return nil }
                if (100..<200).contains(head.status) {
                    guard head.status != 101 else { throw HTTP1ResponseParseError("protocol upgrade not supported") }
                    continue
                }
                pending = head
                let noBody = method == "HEAD" || head.status == 204 || head.status == 304
                if noBody {
                    return finishResponse()
                }
                if let coding = head.header("transfer-encoding") {
                    guard coding.lowercased().split(separator: ",").last?.trimming(\.isSpaceOrTab) == "chunked" else {
                        throw HTTP1ResponseParseError("unsupported transfer-encoding \(coding)")
                    }
                    state = .chunkSize
                } else if let text = head.header("content-length") {
                    guard let length = Self.parseContentLength(text, headers: head.headers) else {
                        throw HTTP1ResponseParseError("invalid Content-Length")
                    }
                    guard length <= maxBodyBytes else { throw HTTP1ResponseParseError("body of \(length) bytes exceeds the limit") }
                    pending!.body.reserveCapacity(length)
                    state = .fixedBody(remaining: length)
                } else {
                    pending!.keepAlive = false
                    state = .untilClose
                }
            case .fixedBody(let remaining):
                let n = min(remaining, buffer.count - start)
                take(n)
                guard remaining == n else {
                    state = .fixedBody(remaining: remaining - n)
                    return nil
                }
                return finishResponse()
            case .chunkSize:
                guard let line = try takeLine() else { return nil }
                let size = try Self.parseChunkSize(line)
                if size == 0 {
                    state = .trailers
                } else {
                    guard pending!.body.count + size <= maxBodyBytes else { throw HTTP1ResponseParseError("chunked body exceeds the limit") }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let n = min(remaining, buffer.count - start)
                take(n)
                guard remaining == n else {
                    state = .chunkData(remaining: remaining - n)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.count - start >= 2 else { return nil }
                guard buffer[start] == 13, buffer[start + 1] == 10 else { throw HTTP1ResponseParseError("chunk data not followed by CRLF") }
                start += 2
                state = .chunkSize
            case .trailers:
                guard let line = try takeLine() else { return nil }
                if line.isEmpty { return finishResponse() }
            case .untilClose:
                let n = buffer.count - start
                guard pending!.body.count + n <= maxBodyBytes else { throw HTTP1ResponseParseError("body exceeds the limit") }
                take(n)
                return nil
            }
        }
    }

    /// The connection has ended: completes a body delimited by the close, fails a response
    /// cut short, returns nil if no response was under way.
    public mutating func finish() throws(HTTP1ResponseParseError) -> HTTP1ClientResponse? {
        switch state {
        case .untilClose: return finishResponse()
        case .head where start == buffer.count: return nil
        default: throw HTTP1ResponseParseError("connection closed mid-response")
        }
    }

    private mutating func finishResponse() -> HTTP1ClientResponse {
        state = .head
        defer { pending = nil }
        return pending!
    }

    private mutating func take(_ n: Int) {
        pending!.body.append(contentsOf: buffer[start ..< start + n])
        start += n
    }

    /// A CRLF-terminated line without its terminator (bare LF accepted), bounded by `maxLineBytes`.
    private mutating func takeLine() throws(HTTP1ResponseParseError) -> ArraySlice<UInt8>? {
        let end = min(buffer.count, start + maxLineBytes + 2)
        guard let lf = buffer[start ..< end].firstIndex(of: 10) else {
            if end - start >= maxLineBytes + 2 { throw HTTP1ResponseParseError("line exceeds \(maxLineBytes) bytes") }
            return nil
        }
        var line = buffer[start ..< lf]
        if line.last == 13 { line = line.dropLast() }
        start = lf + 1
        return line
    }

    private mutating func parseHead() throws(HTTP1ResponseParseError) -> HTTP1ClientResponse? {
        let limit = min(buffer.count, start + maxHeadBytes)
        var headEnd: Int?
        var i = start
        while i + 1 < limit {
            if buffer[i] == 10, buffer[i + 1] == 10 { headEnd = i + 2; break }
            if buffer[i] == 10, i + 2 < limit, buffer[i + 1] == 13, buffer[i + 2] == 10 { headEnd = i + 3; break }
            i += 1
        }
        guard let end = headEnd else {
            if buffer.count - start >= maxHeadBytes { throw HTTP1ResponseParseError("response head exceeds \(maxHeadBytes) bytes") }
            return nil
        }
        var lines = buffer[start ..< end].split(separator: 10).map { line -> ArraySlice<UInt8> in
            line.last == 13 ? line.dropLast() : line
        }
        if lines.last?.isEmpty == true { lines.removeLast() }
        start = end
        guard let statusLine = lines.first else { throw HTTP1ResponseParseError("empty status line") }
        var response = try Self.parseStatusLine(statusLine)
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex,
                  !line[..<colon].contains(where: { $0 == 32 || $0 == 9 || $0 < 32 || $0 == 127 })
            else { throw HTTP1ResponseParseError("malformed header line") }
            let value = String(String(decoding: line[(colon + 1)...], as: UTF8.self).trimming(\.isSpaceOrTab))
            response.headers.append((String(decoding: line[..<colon], as: UTF8.self), value))
        }
        let connection = response.header("connection")?.lowercased()
        response.keepAlive = response.version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
        return response
    }

    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(HTTP1ResponseParseError) -> HTTP1ClientResponse {
        let parts = line.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { throw HTTP1ResponseParseError("malformed status line") }
        let version = String(decoding: parts[0], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw HTTP1ResponseParseError("unsupported version") }
        guard parts[1].count == 3, parts[1].allSatisfy({ (48...57).contains($0) }),
              let status = Int(String(decoding: parts[1], as: UTF8.self)), status >= 100
        else { throw HTTP1ResponseParseError("malformed status code") }
        let reason = parts.count > 2 ? String(decoding: parts[2], as: UTF8.self) : ""
        return HTTP1ClientResponse(status: status, reason: reason, version: version, headers: [], body: [], keepAlive: true)
    }

    /// Digits only; repeated headers (or a comma list) must agree (RFC 9110 §8.6).
    private static func parseContentLength(_ first: String, headers: [(name: String, value: String)]) -> Int? {
        var length: Int?
        for header in headers where header.name.lowercased() == "content-length" {
            for item in header.value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = item.trimming(\.isSpaceOrTab)
                guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ (48...57).contains($0) }),
                      let n = Int(text), length == nil || length == n else { return nil }
                length = n
            }
        }
        return length
    }

    /// Hex size, optional `;extension`; at most 15 hex digits so it cannot overflow.
    private static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTP1ResponseParseError) -> Int {
        let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != 32 && $0 != 9 }
        guard !digits.isEmpty, digits.count <= 15 else { throw HTTP1ResponseParseError("malformed chunk size") }
        var size = 0
        for d in digits {
            let v: Int
            switch d {
            case 48...57: v = Int(d) - 48
            case 65...70: v = Int(d) - 55
            case 97...102: v = Int(d) - 87
            default: throw HTTP1ResponseParseError("malformed chunk size")
            }
            size = size << 4 | v
        }
        return size
    }
}
