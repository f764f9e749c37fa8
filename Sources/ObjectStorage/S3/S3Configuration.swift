import TLS

/// `-storage.s3.bucket-lookup-type`: how the bucket is named in a request.
public enum S3BucketLookup: String, Sendable {
    /// Virtual-hosted for AWS, GCS and Aliyun endpoints with DNS-safe bucket names, path-style otherwise.
    case auto
    /// `Host: <bucket>.<endpoint>`, path `/<key>`.
    case virtualHostedStyle = "virtual-hosted-style"
    /// `Host: <endpoint>`, path `/<bucket>/<key>`.
    case pathStyle = "path-style"
}

/// The S3 backend's settings, one field per `-storage.s3.*` flag (ingest-and-ops.md §5.1).
public struct S3Configuration: Sendable {
    /// `host[:port]` (a leading `http://` or `https://` is accepted and sets `insecure`).
    public var endpoint: String
    public var bucketName: String
    /// Signing region; empty: the one an AWS endpoint's host names, else us-east-1
    /// (`StorageConfiguration.locatingS3Region` fills in the bucket's first).
    public var region: String
    /// Read at each request's signing: an IAM source's are replaced before they expire.
    public var credentials: AWSCredentialsProvider
    /// Plain HTTP instead of HTTPS.
    public var insecure: Bool
    public var bucketLookup: S3BucketLookup
    public var tlsVerification: TLSVerification
    /// Asked of S3 for every object put; nil: none (the bucket's default applies).
    public var serverSideEncryption: S3ServerSideEncryption?
    /// Deadline of one request, its second try included (ring store) / receive and send timeout
    /// (blocking transport).
    public var ioTimeoutMs: Int
    /// Blocking transport: a deadline for each whole request as well (connect, TLS, request,
    /// response; nil: none). The ring store has its own in `ioTimeoutMs`.
    public var requestTimeoutMs: Int?

    public init(endpoint: String, bucketName: String, region: String = "", credentials: AWSCredentials,
                insecure: Bool = false, bucketLookup: S3BucketLookup = .auto,
                tlsVerification: TLSVerification = .systemCAs, serverSideEncryption: S3ServerSideEncryption? = nil,
                ioTimeoutMs: Int = 10_000, requestTimeoutMs: Int? = nil) {
        self.endpoint = endpoint
        self.bucketName = bucketName
        self.region = region
        self.credentials = AWSCredentialsProvider(credentials)
        self.insecure = insecure
        self.bucketLookup = bucketLookup
        self.tlsVerification = tlsVerification
        self.serverSideEncryption = serverSideEncryption
        self.ioTimeoutMs = ioTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs
    }
}

extension S3Configuration {
    /// The region requests are signed for: `region`, else the one the endpoint's AWS host
    /// names, else us-east-1.
    func signingRegion(host: String) -> String {
        region.isEmpty ? S3Region.fromHost(host) ?? "us-east-1" : region
    }

    /// `signingRegion` of the configured endpoint (us-east-1 when it does not parse: then no
    /// client is made).
    public var signingRegion: String {
        signingRegion(host: (try? S3Endpoint.parse(endpoint, insecure: insecure))?.host ?? "")
    }
}

extension S3Configuration {
    /// A TCP connect with no answer within this counts as failed and the next address is tried
    /// (both S3 stores), so a black-holed address (a vanished pod's; SYNs dropped) costs a second
    /// of a request's deadline instead of all of it. A constant, not a flag: upstream has no such
    /// setting (Pyroscope's `-storage.s3.http.*` flags configure thanos objstore's transport,
    /// which dials with a fixed 30 s timeout, longer than the whole 2 s upload timeout).
    static let connectTimeoutMs: UInt64 = 1_000
}

/// The endpoint split into what a connection needs.
public struct S3Endpoint: Equatable, Sendable {
    /// Host name or IP literal (without brackets) to connect to, and the TLS server name.
    public var host: String
    public var port: Int
    public var useTLS: Bool
    /// `Host` header value: host, bracketed if IPv6, with `:port` unless the scheme's default.
    public var hostHeader: String

    public init(host: String, port: Int, useTLS: Bool) {
        self.host = host
        self.port = port
        self.useTLS = useTLS
        let name = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == (useTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    static func parse(_ endpoint: String, insecure: Bool) throws(StorageError) -> S3Endpoint {
        var rest = Substring(endpoint)
        var useTLS = !insecure
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8); useTLS = true }
        else if rest.hasPrefix("http://") { rest = rest.dropFirst(7); useTLS = false }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .configuration("bad endpoint \(endpoint)") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .configuration("bad endpoint \(endpoint)") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty, !host.contains("/") else { throw .configuration("bad endpoint \(endpoint)") }
        var port = useTLS ? 443 : 80
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw .configuration("bad endpoint port in \(endpoint)") }
            port = p
        }
        return S3Endpoint(host: String(host), port: port, useTLS: useTLS)
    }
}
