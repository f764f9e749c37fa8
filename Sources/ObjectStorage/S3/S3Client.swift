import HTTP1

/// Sans-I/O S3 client: builds signed requests and interprets responses. A transport (blocking
/// for start-up and tests, loop-driven later) carries the bytes; the time comes in as an `AmzDate`.
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    /// Where to connect: the endpoint, or `<bucket>.<endpoint>` when virtual-hosted.
    public let endpoint: S3Endpoint
    public let virtualHosted: Bool
    /// What requests are signed for: `-storage.s3.region`, else the one an AWS endpoint's host
    /// names, else us-east-1 (`StorageConfiguration.locatingS3Region` asks the bucket first).
    public let region: String

    public init(configuration: S3Configuration) throws(StorageError) {
        guard !configuration.bucketName.isEmpty else { throw .configuration("-storage.s3.bucket-name is empty") }
        guard !configuration.endpoint.isEmpty else { throw .configuration("-storage.s3.endpoint is empty") }
        self.configuration = configuration
        let base = try S3Endpoint.parse(configuration.endpoint, insecure: configuration.insecure)
        switch configuration.bucketLookup {
        case .pathStyle: virtualHosted = false
        case .virtualHostedStyle: virtualHosted = true
        case .auto:
            // As minio-go (which Pyroscope's S3 client uses) decides: known cloud endpoints only.
            let cloud = ["amazonaws.com", "amazonaws.com.cn", "storage.googleapis.com", "aliyuncs.com"].contains { base.host.hasSuffix($0) }
            virtualHosted = cloud && Self.isDNSSafe(configuration.bucketName, tls: base.useTLS)
        }
        endpoint = virtualHosted ? S3Endpoint(host: "\(configuration.bucketName).\(base.host)", port: base.port, useTLS: base.useTLS) : base
        region = configuration.signingRegion(host: base.host)
    }

    /// PUT Object with `Content-MD5`, so the store rejects a body corrupted in transit (BadDigest),
    /// and the configured server-side encryption.
    public func putObject(key: String, body: [UInt8], date: AmzDate) -> HTTP1ClientRequest {
        let headers = [
            (name: "Content-Type", value: "application/octet-stream"),
            (name: "Content-Length", value: String(body.count)),
            (name: "Content-MD5", value: Crypto.base64(Crypto.md5(body))),
        ] + (configuration.serverSideEncryption?.headers ?? [])
        return request("PUT", key: key, headers: headers, body: body, date: date)
    }

    public func getObject(key: String, date: AmzDate) -> HTTP1ClientRequest {
        request("GET", key: key, date: date)
    }

    public func headObject(key: String, date: AmzDate) -> HTTP1ClientRequest {
        request("HEAD", key: key, date: date)
    }

    /// ListObjectsV2 of the bucket (the start-up health check lists with `maxKeys: 1`).
    public func listObjectsV2(prefix: String = "", maxKeys: Int = 1000, continuationToken: String? = nil,
                              date: AmzDate) -> HTTP1ClientRequest {
        var query = [(name: "list-type", value: "2"), (name: "max-keys", value: String(maxKeys))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        return request("GET", key: nil, query: query, date: date)
    }

    /// GetBucketLocation (`?location`): the bucket's region, for a configuration that names none.
    public func getBucketLocation(date: AmzDate) -> HTTP1ClientRequest {
        // Signed for us-east-1 whatever the bucket's region, as minio-go signs it.
        request("GET", key: nil, query: [(name: "location", value: "")], signingRegion: "us-east-1", date: date)
    }

    private func request(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                         headers extra: [(name: String, value: String)] = [], body: [UInt8] = [],
                         signingRegion: String? = nil, date: AmzDate) -> HTTP1ClientRequest {
        var path = virtualHosted ? "/" : "/" + URIEncoding.encode(configuration.bucketName, keepSlash: false)
        if let key {
            path += (virtualHosted ? "" : "/") + URIEncoding.encode(key, keepSlash: true)
        }
        let payloadHash = Crypto.hex(Crypto.sha256(body))
        var signable = SigV4Request(
            method: method, encodedPath: path, query: query,
            headers: [("Host", endpoint.hostHeader), ("x-amz-content-sha256", payloadHash)] + extra,
            payloadHash: payloadHash
        )
        S3RequestSigner(credentials: configuration.credentials.current, region: signingRegion ?? region).sign(&signable, date: date)
        let canonicalQuery = signable.canonicalQuery
        return HTTP1ClientRequest(method: method, target: canonicalQuery.isEmpty ? path : path + "?" + canonicalQuery,
                                  headers: signable.headers, body: body)
    }

    /// 2xx passes; anything else becomes `StorageError.service` with the error XML's `Code` and
    /// `Message` (HEAD answers have no body: the code is then the status' usual name).
    public static func check(_ response: HTTP1ClientResponse) throws(StorageError) {
        guard !(200..<300).contains(response.status) else { return }
        let body = String(decoding: response.body.prefix(64 << 10), as: UTF8.self)
        let code = XMLText.firstElement("Code", in: body) ?? Self.defaultCode(response.status)
        let message = XMLText.firstElement("Message", in: body) ?? response.reason
        throw .service(status: response.status, code: code, message: message)
    }

    /// Keys and the continuation token of a ListObjectsV2 answer.
    public static func parseList(_ body: [UInt8]) -> (keys: [String], nextContinuationToken: String?) {
        let text = String(decoding: body, as: UTF8.self)
        let truncated = XMLText.firstElement("IsTruncated", in: text) == "true"
        return (XMLText.allElements("Key", in: text), truncated ? XMLText.firstElement("NextContinuationToken", in: text) : nil)
    }

    private static func defaultCode(_ status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        default: "HTTP\(status)"
        }
    }

    /// Lower-case letters, digits, `-` (and `.` only over plain HTTP: TLS wildcard certs do not cover it).
    private static func isDNSSafe(_ bucket: String, tls: Bool) -> Bool {
        (3...63).contains(bucket.count) && bucket.utf8.allSatisfy {
            (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || (!tls && $0 == 46)
        }
    }
}

/// Just enough XML for S3's flat answers: the text of `<Name>…</Name>` elements, entities decoded.
enum XMLText {
    static func firstElement(_ name: String, in text: String) -> String? {
        elements(name, in: text, limit: 1).first
    }

    static func allElements(_ name: String, in text: String) -> [String] {
        elements(name, in: text, limit: Int.max)
    }

    private static func elements(_ name: String, in text: String, limit: Int) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while out.count < limit, let open = rest.firstRange(of: "<\(name)>") {
            guard let close = rest[open.upperBound...].firstRange(of: "</\(name)>") else { break }
            out.append(decodeEntities(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    private static func decodeEntities(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        return String(text).replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }
}
