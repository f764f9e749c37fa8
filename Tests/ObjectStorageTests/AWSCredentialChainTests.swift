@testable import ObjectStorage
import Testing

/// The credentials of a configuration without an access key: minio-go's environment and
/// shared-file providers, in that order, and the errors that replace its IAM provider.
@Suite struct AWSCredentialChainTests {
    enum Missing: Error { case file }

    private func resolve(_ environment: [String: String], files: [String: String] = [:]) throws(AWSCredentialsError) -> AWSCredentialChain.Found {
        try AWSCredentialChain.resolve(environment: environment) { path in
            guard let text = files[path] else { throw Missing.file }
            return text
        }
    }

    static let file = """
        # written by aws configure
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = secret/default+key ; inline comment
        [ci]
        aws_access_key_id: ASIACI
        aws_secret_access_key = "quoted secret"
        aws_session_token = `token;with#marks`
        """

    @Test func environmentComesFirstWithItsSessionToken() throws {
        let found = try resolve(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
                                 "HOME": "/home/w"], files: ["/home/w/.aws/credentials": Self.file])
        #expect(found == .init(credentials: AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "s", sessionToken: "t"),
                               source: "environment"))
        let legacy = try resolve(["AWS_ACCESS_KEY": "AKIDOLD", "AWS_SECRET_KEY": "old"])
        #expect(legacy.credentials == AWSCredentials(accessKeyID: "AKIDOLD", secretAccessKey: "old"))
    }

    @Test func sharedFileDefaultProfileUnderHome() throws {
        let found = try resolve(["HOME": "/home/w/"], files: ["/home/w/.aws/credentials": Self.file])
        #expect(found == .init(credentials: AWSCredentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "secret/default+key"),
                               source: "/home/w/.aws/credentials [default]"))
    }

    @Test func sharedFileNamedByEnvironmentWithProfileAndQuotedValues() throws {
        let found = try resolve(["AWS_SHARED_CREDENTIALS_FILE": "/etc/aws", "AWS_PROFILE": "ci", "HOME": "/home/w"],
                                files: ["/etc/aws": Self.file])
        #expect(found == .init(credentials: AWSCredentials(accessKeyID: "ASIACI", secretAccessKey: "quoted secret",
                                                           sessionToken: "token;with#marks"),
                               source: "/etc/aws [ci]"))
    }

    @Test func halfAKeyPairIsAnError() {
        #expect(throws: AWSCredentialsError.partialKeyPair(source: "environment")) {
            try resolve(["AWS_ACCESS_KEY_ID": "AKIDENV"])
        }
        #expect(throws: AWSCredentialsError.partialKeyPair(source: "/f [default]")) {
            try resolve(["AWS_SHARED_CREDENTIALS_FILE": "/f"], files: ["/f": "[default]\naws_secret_access_key=s\n"])
        }
    }

    @Test func credentialProcessIsRefusedNotRun() {
        #expect(throws: AWSCredentialsError.credentialProcessUnsupported(source: "/f [default]")) {
            try resolve(["AWS_SHARED_CREDENTIALS_FILE": "/f"], files: ["/f": "[default]\ncredential_process = /bin/creds --json\n"])
        }
    }

    @Test func nothingFoundSaysWhereItLookedAndThatIAMIsNotSupported() throws {
        #expect(throws: AWSCredentialsError.notFound(looked: ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                                                              "/home/w/.aws/credentials cannot be read"], iamHint: nil)) {
            try resolve(["HOME": "/home/w"])
        }
        #expect(throws: AWSCredentialsError.notFound(looked: ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                                                              "/f has no [prod] profile"],
                                                     iamHint: "AWS_WEB_IDENTITY_TOKEN_FILE")) {
            try resolve(["AWS_SHARED_CREDENTIALS_FILE": "/f", "AWS_PROFILE": "prod",
                         "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"],
                        files: ["/f": Self.file])
        }
        let error = AWSCredentialsError.notFound(looked: ["HOME is not set, so there is no ~/.aws/credentials"],
                                                 iamHint: "AWS_WEB_IDENTITY_TOKEN_FILE")
        #expect(error.description.contains("IAM roles (EC2 instance profile, IRSA web identity, ECS/EKS pod identity) are not supported"))
        #expect(error.description.hasSuffix("(AWS_WEB_IDENTITY_TOKEN_FILE is set, but IAM credentials are not supported)"))
    }

    @Test func repeatedSectionsMergeAndTheLastKeyWins() {
        let text = "[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\nj=4\n"
        #expect(AWSSharedCredentialsFile.section("a", in: text) == ["k": "3", "j": "4"])
        #expect(AWSSharedCredentialsFile.section("c", in: text) == nil)
    }
}
