@testable import ObjectStorage
import Testing

/// The credentials of a configuration without an access key: minio-go's environment and
/// shared-file providers, in that order, then its IAM provider's choice (`AWSIAMSourceTests`).
@Suite struct AWSCredentialChainTests {
    enum Missing: Error { case file, notFixed }

    private func resolution(_ environment: [String: String], files: [String: String] = [:]) throws(AWSCredentialsError) -> AWSCredentialChain.Resolution {
        try AWSCredentialChain.resolve(environment: environment) { path in
            guard let text = files[path] else { throw Missing.file }
            return text
        }
    }

    private func resolve(_ environment: [String: String], files: [String: String] = [:]) throws -> AWSCredentialChain.Found {
        guard case .found(let found) = try resolution(environment, files: files) else { throw Missing.notFixed }
        return found
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

    /// With neither fixed source, IAM is chosen (to be asked at start-up), carrying what the
    /// others gave for its error; with IMDS off and no other IAM variable, nothing is left.
    @Test func nothingFixedChoosesIAMOrSaysWhereItLooked() throws {
        let looked = ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", "/f has no [prod] profile"]
        let tokenFile = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
        let chosen = try resolution(["AWS_SHARED_CREDENTIALS_FILE": "/f", "AWS_PROFILE": "prod", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
                                     "AWS_ROLE_ARN": "arn:aws:iam::1:role/w"], files: ["/f": Self.file])
        guard case .iam(.webIdentity(tokenFile, "arn:aws:iam::1:role/w", "", _), looked) = chosen else {
            Issue.record("expected web identity, got \(chosen)")
            return
        }
        guard case .iam(.instanceProfile, _) = try resolution(["HOME": "/home/w"]) else {
            Issue.record("expected the instance profile")
            return
        }
        #expect(throws: AWSCredentialsError.notFound(looked: ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                                                              "/home/w/.aws/credentials cannot be read",
                                                              "AWS_EC2_METADATA_DISABLED is true, so no instance profile is asked for"])) {
            try resolution(["HOME": "/home/w", "AWS_EC2_METADATA_DISABLED": "true"])
        }
        let error = AWSCredentialsError.notFound(looked: ["HOME is not set, so there is no ~/.aws/credentials"])
        #expect(error.description.contains("or IAM (web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN;"))
    }

    @Test func repeatedSectionsMergeAndTheLastKeyWins() {
        let text = "[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\nj=4\n"
        #expect(AWSSharedCredentialsFile.section("a", in: text) == ["k": "3", "j": "4"])
        #expect(AWSSharedCredentialsFile.section("c", in: text) == nil)
    }
}
