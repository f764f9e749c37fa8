/// An HTTP/1.1 request a client sends (the S3 client's PUT/GET/HEAD/LIST).
/// `target` is the origin-form path and query, already percent-encoded.
public struct HTTP1ClientRequest: Sendable {
    public var method: String
    public var target: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// First value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Request line, headers, `Content-Length` (unless given, and always for a body or a PUT/POST),
    /// blank line, body. The caller supplies `Host`.
    public func serialize() -> [UInt8] {
        serializeHead() + body
    }

    /// Everything before the body, so a large body can be sent without copying it behind the head.
    public func serializeHead() -> [UInt8] {
        precondition(!target.isEmpty && !target.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 32 }), "bad request target")
        var head = "\(method) \(target) HTTP/1.1\r\n"
        for h in headers {
            precondition(!h.value.utf8.contains(where: { $0 == 13 || $0 == 10 }), "header value with CR/LF")
            head += "\(h.name): \(h.value)\r\n"
        }
        if header("content-length") == nil, !body.isEmpty || method == "PUT" || method == "POST" {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8)
    }
}
