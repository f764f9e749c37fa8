/// What SigV4 signs: the method, the already URI-encoded path, the raw query parameters,
/// the headers (including `host`) and the hex SHA-256 of the payload.
public struct SigV4Request: Sendable {
    public var method: String
    /// Canonical URI: each path segment URI-encoded, `/` kept (S3 does not normalise it further).
    public var encodedPath: String
    /// Unencoded names and values; the signer encodes and sorts them.
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    public var payloadHash: String

    public init(method: String, encodedPath: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)], payloadHash: String) {
        self.method = method
        self.encodedPath = encodedPath
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// `name=value&…` sorted by encoded name then value, both URI-encoded (`/` too).
    public var canonicalQuery: String {
        query.map { (URIEncoding.encode($0.name, keepSlash: false), URIEncoding.encode($0.value, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as the S3 docs "Signature Calculations for the
/// Authorization Header" define it. Pure: the time comes in as an `AmzDate`.
public struct S3RequestSigner: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Adds `x-amz-date`, `x-amz-security-token` (temporary credentials; signed, as minio-go and
    /// the AWS SDKs sign it) and `Authorization` to `request.headers`.
    public func sign(_ request: inout SigV4Request, date: AmzDate) {
        request.headers.append(("x-amz-date", date.stamp))
        if !credentials.sessionToken.isEmpty { request.headers.append(("x-amz-security-token", credentials.sessionToken)) }
        request.headers.append(("Authorization", authorization(request, date: date)))
    }

    public func authorization(_ request: SigV4Request, date: AmzDate) -> String {
        let signature = Crypto.hex(Crypto.hmacSHA256(key: signingKey(day: date.day), Array(stringToSign(request, date: date).utf8)))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(day: date.day)), "
            + "SignedHeaders=\(signedHeaders(request)), Signature=\(signature)"
    }

    public func canonicalRequest(_ request: SigV4Request) -> String {
        let headers = canonicalHeaders(request)
        let lines = headers.map { "\($0.name):\($0.value)\n" }.joined()
        return [request.method, request.encodedPath, request.canonicalQuery, lines, signedHeaders(request), request.payloadHash]
            .joined(separator: "\n")
    }

    public func stringToSign(_ request: SigV4Request, date: AmzDate) -> String {
        let hashed = Crypto.hex(Crypto.sha256(Array(canonicalRequest(request).utf8)))
        return "AWS4-HMAC-SHA256\n\(date.stamp)\n\(scope(day: date.day))\n\(hashed)"
    }

    /// HMAC chain `AWS4<secret>` → day → region → service → `aws4_request`.
    public func signingKey(day: String) -> [UInt8] {
        var key = Array("AWS4\(credentials.secretAccessKey)".utf8)
        for part in [day, region, service, "aws4_request"] {
            key = Crypto.hmacSHA256(key: key, Array(part.utf8))
        }
        return key
    }

    func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    func signedHeaders(_ request: SigV4Request) -> String {
        canonicalHeaders(request).map(\.name).joined(separator: ";")
    }

    /// Lower-case names, values trimmed with inner runs of spaces collapsed, repeated names
    /// joined by commas, sorted by name. `Authorization` itself is never signed.
    private func canonicalHeaders(_ request: SigV4Request) -> [(name: String, value: String)] {
        var merged: [String: [String]] = [:]
        for header in request.headers {
            let name = header.name.lowercased()
            guard name != "authorization" else { continue }
            merged[name, default: []].append(Self.collapseSpaces(header.value))
        }
        return merged.keys.sorted().map { ($0, merged[$0]!.joined(separator: ",")) }
    }

    private static func collapseSpaces(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
