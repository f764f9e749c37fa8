import HTTP1
import ObjectStorage

/// What the S3 client promises whatever its endpoint answers (a misbehaving proxy or a fake
/// store): responses parsed in reads of varying sizes, bodies within the limit, error and
/// listing XML read, and the end of the connection settling a body cut short, never a trap.
public struct S3ResponseCheck {
    public static let maxBodyBytes = 64 << 10

    public struct Summary: Sendable, CustomStringConvertible {
        public var responses = 0
        public var errors = 0
        public var keys = 0
        public var failure: String?
        public var description: String { "responses \(responses) (errors \(errors), keys \(keys)), failure \(failure ?? "none")" }
    }

    public init() {}

    /// An endpoint's bytes, in `SocketReads`, answering GETs (bodies) and HEADs (none) in turn.
    public func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> Summary {
        var parser = HTTP1ResponseParser(maxHeadBytes: 4 << 10, maxBodyBytes: Self.maxBodyBytes)
        var summary = Summary()
        var responses: [HTTP1ClientResponse] = []
        do throws(HTTP1ResponseParseError) {
            for read in SocketReads(bytes) {
                parser.append(read)
                while let response = try parser.next(requestMethod: responses.count % 3 == 2 ? "HEAD" : "GET") {
                    responses.append(response)
                }
            }
            if let last = try parser.finish() { responses.append(last) }
        } catch {
            summary.failure = error.reason
        }
        for response in responses { try take(response, &summary) }
        return summary
    }

    private func take(_ response: HTTP1ClientResponse, _ summary: inout Summary) throws(FuzzViolation) {
        summary.responses += 1
        guard response.body.count <= Self.maxBodyBytes else {
            throw FuzzViolation("a body of \(response.body.count) bytes passed the \(Self.maxBodyBytes)-byte limit")
        }
        do throws(StorageError) { try S3Client.check(response) } catch { summary.errors += 1 }
        summary.keys += S3Client.parseList(response.body).keys.count
    }

    /// What an S3 endpoint answers (a read-size byte first): a PUT's 200, an error, a chunked
    /// listing, a body delimited by the connection's end after an interim response.
    public static var seeds: [(name: String, bytes: [UInt8])] {
        let error = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>a &amp; b</Message></Error>"
        let listing = ["<ListBucketResult><Key>a</Key>", "<Key>b</Key><IsTruncated>false</IsTruncated>", "</ListBucketResult>"]
        let chunks = listing.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined() + "0\r\n\r\n"
        return [
            ("ok", "\u{0}HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n"),
            ("error", "\u{3}HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: \(error.utf8.count)\r\n\r\n" + error),
            ("listing", "\u{1}HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks),
            ("until-close", "\u{7}HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nthe body runs to the end"),
        ].map { ($0.0, Array($0.1.utf8)) }
    }
}
