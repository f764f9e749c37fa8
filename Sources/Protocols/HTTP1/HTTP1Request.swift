import BinaryCoding

/// A parsed HTTP/1.1 request head plus its body (the operational port serves small requests).
public struct HTTP1Request: Equatable, Sendable {
    public var method: String
    public var target: String
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public static func == (a: HTTP1Request, b: HTTP1Request) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// First value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The path without the query string.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }

    /// HTTP/1.1 defaults to keep-alive; HTTP/1.0 to close.
    public var keepAlive: Bool {
        let connection = header("connection")?.lowercased()
        return version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
    }
}

/// Why a request could not be parsed; each maps to the 4xx status the server answers with.
public struct HTTP1ParseError: Error, Equatable, Sendable {
    public var status: Int
    public var reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }
}
