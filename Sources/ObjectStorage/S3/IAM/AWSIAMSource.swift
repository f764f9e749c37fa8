/// Where IAM credentials come from once the environment and the shared credentials file gave
/// none, chosen as minio-go's `IAM` provider (upstream's last source) chooses: web identity
/// (IRSA), then container credentials (ECS task role, EKS Pod Identity), then the EC2 instance
/// metadata service.
public enum AWSIAMSource: Sendable, Equatable {
    /// STS `AssumeRoleWithWebIdentity` with the token in `tokenFile` (read for every fetch: the
    /// kubelet rotates it); an empty `sessionName` is made up per fetch, as minio-go does.
    case webIdentity(tokenFile: String, roleARN: String, sessionName: String, sts: AWSServiceURL)
    /// A GET of `url` with `Authorization` from the token, else the token file, if either is set.
    case container(url: AWSServiceURL, authorizationToken: String, authorizationTokenFile: String)
    /// IMDSv2 at `endpoint`.
    case instanceProfile(endpoint: AWSServiceURL)

    /// For the start-up log's `source`.
    public var name: String {
        switch self {
        case .webIdentity: "web-identity"
        case .container: "container"
        case .instanceProfile: "instance-profile"
        }
    }

    /// What was asked, for messages.
    public var description: String {
        switch self {
        case .webIdentity(let tokenFile, let roleARN, _, let sts): "web identity (\(roleARN) with \(tokenFile) at \(sts.text))"
        case .container(let url, _, _): "container credentials at \(url.text)"
        case .instanceProfile(let endpoint): "EC2 instance profile at \(endpoint.text)"
        }
    }

    static let ecsEndpoint = "http://169.254.170.2"
    static let imdsEndpoint = "http://169.254.169.254"

    /// The source `environment` asks for; nil when none applies (`AWS_EC2_METADATA_DISABLED=true`
    /// and no other variable set).
    public static func select(_ environment: [String: String]) throws(AWSCredentialsError) -> AWSIAMSource? {
        func value(_ name: String) -> String { environment[name] ?? "" }
        let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE")
        if !tokenFile.isEmpty {
            guard !value("AWS_ROLE_ARN").isEmpty else { throw .invalidSetting("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not") }
            return .webIdentity(tokenFile: tokenFile, roleARN: value("AWS_ROLE_ARN"), sessionName: value("AWS_ROLE_SESSION_NAME"),
                                sts: try AWSServiceURL.parse(stsEndpoint(environment), named: "the STS endpoint"))
        }
        let token = value("AWS_CONTAINER_AUTHORIZATION_TOKEN"), tokenFileForContainer = value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        if !relative.isEmpty {
            let url = try AWSServiceURL.parse(ecsEndpoint + (relative.hasPrefix("/") ? "" : "/") + relative,
                                              named: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            return .container(url: url, authorizationToken: token, authorizationTokenFile: tokenFileForContainer)
        }
        let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        if !full.isEmpty {
            let url = try AWSServiceURL.parse(full, named: "AWS_CONTAINER_CREDENTIALS_FULL_URI")
            // The SDKs' rule: credentials over plain HTTP only from this host or the ECS/EKS agents.
            guard url.endpoint.useTLS || isContainerAgentHost(url.endpoint.host) else {
                throw .invalidSetting("AWS_CONTAINER_CREDENTIALS_FULL_URI \(full) is plain HTTP to a host that is neither loopback nor an ECS/EKS credentials address")
            }
            return .container(url: url, authorizationToken: token, authorizationTokenFile: tokenFileForContainer)
        }
        guard value("AWS_EC2_METADATA_DISABLED").lowercased() != "true" else { return nil }
        let imds = value("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        return .instanceProfile(endpoint: try AWSServiceURL.parse(imds.isEmpty ? imdsEndpoint : imds, named: "AWS_EC2_METADATA_SERVICE_ENDPOINT"))
    }

    /// `AWS_ENDPOINT_URL_STS` (the SDKs' override), else the regional endpoint as minio-go names it.
    static func stsEndpoint(_ environment: [String: String]) -> String {
        if let url = environment["AWS_ENDPOINT_URL_STS"], !url.isEmpty { return url }
        guard let region = environment["AWS_REGION"], !region.isEmpty else { return "https://sts.amazonaws.com" }
        return "https://sts.\(region).amazonaws.com" + (region.hasPrefix("cn-") ? ".cn" : "")
    }

    static func isContainerAgentHost(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
            || ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"].contains(host.lowercased())
    }
}

/// An `http(s)://host[:port][/path]` URL of a credentials service: where to connect and what
/// to ask for.
public struct AWSServiceURL: Sendable, Equatable {
    public var endpoint: S3Endpoint
    /// The request target: the path (and query), `/` when the URL has none.
    public var target: String
    /// As configured, for messages.
    public var text: String

    static func parse(_ text: String, named name: String) throws(AWSCredentialsError) -> AWSServiceURL {
        guard let scheme = ["http://", "https://"].first(where: { text.hasPrefix($0) }) else {
            throw .invalidSetting("\(name) \(text) is not an http:// or https:// URL")
        }
        let afterScheme = text.dropFirst(scheme.count)
        let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let endpoint: S3Endpoint
        do {
            endpoint = try S3Endpoint.parse(scheme + afterScheme[..<slash], insecure: false)
        } catch {
            throw .invalidSetting("\(name) \(text) is not a valid URL")
        }
        let target = String(afterScheme[slash...])
        guard !target.utf8.contains(where: { $0 <= 32 || $0 == 127 }) else {
            throw .invalidSetting("\(name) \(text) has a space or control character in its path")
        }
        return AWSServiceURL(endpoint: endpoint, target: target.isEmpty ? "/" : target, text: text)
    }
}
