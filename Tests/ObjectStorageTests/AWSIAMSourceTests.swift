@testable import ObjectStorage
import Testing

/// Which IAM source an environment asks for, in minio-go's order (web identity, container
/// credentials, instance profile), and where each is asked.
@Suite struct AWSIAMSourceTests {
    static let webIdentity = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/w"]
    static let relative = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]
    static let full = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/pod-token"]

    @Test func webIdentityComesFirstThenContainerThenInstanceProfile() throws {
        let all = Self.webIdentity.merging(Self.relative) { a, _ in a }.merging(Self.full) { a, _ in a }
        #expect(try AWSIAMSource.select(all)?.name == "web-identity")
        #expect(try AWSIAMSource.select(Self.relative.merging(Self.full) { a, _ in a })?.name == "container")
        #expect(try AWSIAMSource.select(Self.full)?.name == "container")
        #expect(try AWSIAMSource.select([:])?.name == "instance-profile")
        #expect(try AWSIAMSource.select(["AWS_EC2_METADATA_DISABLED": "TRUE"]) == nil)
        #expect(try AWSIAMSource.select(["AWS_EC2_METADATA_DISABLED": "false"])?.name == "instance-profile")
    }

    @Test func stsEndpointIsTheOverrideElseTheRegionsElseTheGlobalOne() throws {
        func sts(_ extra: [String: String]) throws -> AWSServiceURL? {
            guard case .webIdentity(_, _, _, let sts) = try AWSIAMSource.select(Self.webIdentity.merging(extra) { a, _ in a }) else { return nil }
            return sts
        }
        #expect(try sts([:])?.text == "https://sts.amazonaws.com")
        #expect(try sts(["AWS_REGION": "eu-west-1"])?.text == "https://sts.eu-west-1.amazonaws.com")
        #expect(try sts(["AWS_REGION": "cn-north-1"])?.text == "https://sts.cn-north-1.amazonaws.com.cn")
        let local = try #require(try sts(["AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:5000"]))
        #expect(local.endpoint == S3Endpoint(host: "127.0.0.1", port: 5000, useTLS: false) && local.target == "/")
        let global = try #require(try sts([:]))
        #expect(global.endpoint == S3Endpoint(host: "sts.amazonaws.com", port: 443, useTLS: true))
    }

    @Test func containerAndMetadataEndpoints() throws {
        guard case .container(let url, "", "") = try AWSIAMSource.select(Self.relative) else { Issue.record("not container"); return }
        #expect(url.endpoint == S3Endpoint(host: "169.254.170.2", port: 80, useTLS: false) && url.target == "/v2/credentials/abc")
        guard case .container(let podURL, "", "/pod-token") = try AWSIAMSource.select(Self.full) else { Issue.record("not container"); return }
        #expect(podURL.endpoint.host == "169.254.170.23" && podURL.target == "/v1/credentials")
        guard case .instanceProfile(let imds) = try AWSIAMSource.select([:]) else { Issue.record("not IMDS"); return }
        #expect(imds.endpoint == S3Endpoint(host: "169.254.169.254", port: 80, useTLS: false))
        guard case .instanceProfile(let local) = try AWSIAMSource.select(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://[::1]:8080/"]) else {
            Issue.record("not IMDS")
            return
        }
        #expect(local.endpoint == S3Endpoint(host: "::1", port: 8080, useTLS: false))
    }

    @Test func settingsThatCannotWorkAreRefused() throws {
        #expect(throws: AWSCredentialsError.invalidSetting("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")) {
            try AWSIAMSource.select(["AWS_WEB_IDENTITY_TOKEN_FILE": "/token"])
        }
        // Credentials over plain HTTP only from this host or the ECS/EKS agents (the SDKs' rule).
        #expect(throws: AWSCredentialsError.self) {
            try AWSIAMSource.select(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/credentials"])
        }
        #expect(try AWSIAMSource.select(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://example.com/credentials"])?.name == "container")
        #expect(try AWSIAMSource.select(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost:9/c"])?.name == "container")
        for bad in ["169.254.169.254", "ftp://x/", "http://", "http://host:99999/", "http://host/a b"] {
            #expect(throws: AWSCredentialsError.self) { try AWSIAMSource.select(["AWS_EC2_METADATA_SERVICE_ENDPOINT": bad]) }
        }
    }
}
