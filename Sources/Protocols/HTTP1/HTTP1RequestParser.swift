import BinaryCoding

/// Incremental HTTP/1.1 request parser: feed received bytes, take complete requests.
/// Bounded: the head may not exceed `maxHeadBytes`, a body `maxBodyBytes`; chunked
/// request bodies are refused (411), as the operational endpoints take none.
public struct HTTP1RequestParser: Sendable {
    public let maxHeadBytes: Int
    public let maxBodyBytes: Int
    /// Received bytes; the request being read starts at `start` (those before it were taken).
    private var buffer: [UInt8] = []
    private var start = 0
    /// The request's head, once it is whole, and where its body starts and the request ends.
    private var pending: (request: HTTP1Request, bodyStart: Int, end: Int)?
    /// The head's end was looked for, in vain, at every offset below this one. With both, each
    /// byte is scanned once and moved at most once or twice whatever a client does: bytes
    /// trickling in are not rescanned on every arrival, and pipelined requests are not each
    /// followed by a move of everything after them.
    private var scannedUpTo = 0

    public init(maxHeadBytes: Int = 16 << 10, maxBodyBytes: Int = 1 << 20) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Bytes received of a request not complete yet (0 between requests).
    public var bufferedByteCount: Int { buffer.count - start }

    /// Whether the request not complete yet has its whole head (only its body is awaited), as
    /// of the last `next()`.
    public var hasPendingHead: Bool { pending != nil }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, nil if more bytes are needed.
    public mutating func next() throws(HTTP1ParseError) -> HTTP1Request? {
        if pending == nil {
            guard let headEnd = findHeadEnd() else {
                if buffer.count - start > maxHeadBytes { throw HTTP1ParseError(status: 431, reason: "request header fields too large") }
                compact()
                return nil
            }
            guard headEnd - start <= maxHeadBytes else { throw HTTP1ParseError(status: 431, reason: "request header fields too large") }
            let request = try parseHead(buffer[start ..< headEnd])
            if request.header("transfer-encoding") != nil {
                throw HTTP1ParseError(status: 411, reason: "chunked request bodies are not accepted")
            }
            var bodyLength = 0
            if let text = request.header("content-length") {
                guard let n = Int(text), n >= 0 else { throw HTTP1ParseError(status: 400, reason: "invalid Content-Length") }
                guard n <= maxBodyBytes else { throw HTTP1ParseError(status: 413, reason: "request body too large") }
                bodyLength = n
            }
            pending = (request, headEnd + 4, headEnd + 4 + bodyLength)
        }
        guard let (head, bodyStart, end) = pending, buffer.count >= end else {
            compact()
            return nil
        }
        var request = head
        request.body = Array(buffer[bodyStart ..< end])
        pending = nil
        start = end
        scannedUpTo = end
        return request
    }

    /// Drops the bytes of requests already taken, once the caller has taken all it can.
    private mutating func compact() {
        guard start > 0 else { return }
        buffer.removeFirst(start)
        scannedUpTo -= start
        if let (request, bodyStart, end) = pending { pending = (request, bodyStart - start, end - start) }
        start = 0
    }

    /// Where the head's blank line starts, scanning only bytes not scanned before.
    private mutating func findHeadEnd() -> Int? {
        guard buffer.count - 4 >= scannedUpTo else { return nil }
        for i in scannedUpTo ... buffer.count - 4 where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        scannedUpTo = buffer.count - 3
        return nil
    }

    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTP1ParseError) -> HTTP1Request {
        let lines = head.split(separator: 10, omittingEmptySubsequences: false).map { line -> Substring in
            let text = String(decoding: line, as: UTF8.self)
            return text.hasSuffix("\r") ? Substring(text.dropLast()) : Substring(text)
        }
        let requestLine = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, !requestLine[0].isEmpty, requestLine[1].hasPrefix("/") || requestLine[1] == "*",
              requestLine[2] == "HTTP/1.1" || requestLine[2] == "HTTP/1.0"
        else { throw HTTP1ParseError(status: 400, reason: "malformed request line") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(where: { $0 == " " || $0 == "\t" })
            else { throw HTTP1ParseError(status: 400, reason: "malformed header line") }
            let value = String(line[line.index(after: colon)...].trimming(\.isSpaceOrTab))
            headers.append((String(line[..<colon]), value))
        }
        return HTTP1Request(method: String(requestLine[0]), target: String(requestLine[1]),
                            version: String(requestLine[2]), headers: headers, body: [])
    }
}
