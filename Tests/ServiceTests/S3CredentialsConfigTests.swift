@testable import SegmentWriterService
import Testing

/// `-storage.backend=s3` without an access key: the configuration carries what the credential
/// chain found (environment, then shared credentials file) or the IAM source it chose, or
/// start-up is refused.
@Suite struct S3CredentialsConfigTests {
    enum Missing: Error { case file }
    static let s3 = ["-storage.backend=s3", "-storage.s3.endpoint=127.0.0.1:9000", "-storage.s3.bucket-name=b"]

    private func load(_ args: [String], env: [String: String], files: [String: String] = [:]) throws -> SegmentWriterConfig {
        try ConfigLoader.load(arguments: Self.s3 + args, environment: env) { path in
            guard let text = files[path] else { throw Missing.file }
            return text
        }.config
    }

    @Test func emptyAccessKeyTakesTheEnvironmentsTemporaryCredentials() throws {
        let c = try load([], env: ["AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"])
        #expect(c.storage.s3.accessKeyID == "ASIAENV" && c.storage.s3.secretAccessKey == "s" && c.storage.s3.sessionToken == "t")
        #expect(c.storage.s3.credentialsSource == "environment")
        #expect(c.storageConfiguration.s3?.credentials.current.sessionToken == "t")
    }

    /// Found credentials go into request headers as configured ones do: a newline (a secret
    /// mounted from a file) fails start-up rather than the first request.
    @Test func foundCredentialsWithAControlCharacterRefuseStartUp() {
        let message = "the access key ID or session token from environment contains a control character such as a newline"
        #expect(throws: ConfigError.invalid(message)) {
            try load([], env: ["AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t\n"])
        }
        #expect(throws: ConfigError.invalid(message)) {
            try load([], env: ["AWS_ACCESS_KEY_ID": "ASIA\r\nENV", "AWS_SECRET_ACCESS_KEY": "s"])
        }
    }

    @Test func emptyAccessKeyTakesTheSharedCredentialsFile() throws {
        let c = try load([], env: ["HOME": "/home/w"],
                         files: ["/home/w/.aws/credentials": "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=f\n"])
        #expect(c.storage.s3.accessKeyID == "AKIDFILE" && c.storage.s3.secretAccessKey == "f")
        #expect(c.storage.s3.credentialsSource == "/home/w/.aws/credentials [default]")
    }

    @Test func configuredKeysAreNotReplaced() throws {
        let c = try load(["-storage.s3.access-key-id=AKIDFLAG", "-storage.s3.secret-access-key=x"],
                         env: ["AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "s"])
        #expect(c.storage.s3.accessKeyID == "AKIDFLAG" && c.storage.s3.sessionToken.isEmpty)
        #expect(c.storage.s3.credentialsSource == "configuration")
    }

    /// Nothing fixed: the IAM source the environment asks for is kept for the server to fetch
    /// from at start-up (here the instance profile); with IMDS off too, start-up is refused.
    @Test func noFixedCredentialsChoosesIAMOrRefusesStartUp() throws {
        let c = try load([], env: [:])
        #expect(c.storage.s3.credentialsSource == "instance-profile" && c.storage.s3.accessKeyID.isEmpty)
        guard case .instanceProfile = c.storage.s3.iamSource else { Issue.record("no IAM source: \(c.storage.s3)"); return }
        #expect(c.storage.s3.credentialsLooked == ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                                                   "HOME is not set, so there is no ~/.aws/credentials"])
        #expect {
            try load([], env: ["AWS_EC2_METADATA_DISABLED": "true"])
        } throws: { error in
            guard case ConfigError.invalid(let message) = error else { return false }
            return message.hasPrefix("-storage.s3.access-key-id is empty and no S3 credentials were found: ")
                && message.contains("AWS_EC2_METADATA_DISABLED is true, so no instance profile is asked for")
        }
    }

    /// `-storage.s3.native-aws-auth-enabled` (the AWS SDK's chain upstream) takes the sources of
    /// that chain this writer has; with an access key it is refused, as thanos objstore refuses it.
    @Test func nativeAWSAuthTakesTheChainAndExcludesAnAccessKey() throws {
        let c = try load(["-storage.s3.native-aws-auth-enabled"], env: ["AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "s"])
        #expect(c.storage.s3.nativeAWSAuthEnabled && c.storage.s3.accessKeyID == "ASIAENV" && c.storage.s3.credentialsSource == "environment")
        #expect(throws: ConfigError.invalid("-storage.s3.native-aws-auth-enabled and -storage.s3.access-key-id are mutually exclusive")) {
            try load(["-storage.s3.native-aws-auth-enabled", "-storage.s3.access-key-id=AKID", "-storage.s3.secret-access-key=x"], env: [:])
        }
        #expect(throws: ConfigError.invalid("-storage.s3.native-aws-auth-enabled=true and AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")) {
            try load(["-storage.s3.native-aws-auth-enabled=true"], env: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"])
        }
        let irsa = try load(["-storage.s3.native-aws-auth-enabled=true"],
                            env: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/w"])
        #expect(irsa.storage.s3.credentialsSource == "web-identity")
    }

    /// thanos objstore's validate refuses one half of a key pair in the configuration.
    @Test func halfAConfiguredKeyPairIsRefused() {
        for half in ["-storage.s3.access-key-id=AKID", "-storage.s3.secret-access-key=x"] {
            #expect(throws: ConfigError.invalid("-storage.s3.access-key-id and -storage.s3.secret-access-key go together: set both, or neither to take credentials from the environment or the shared credentials file")) {
                try load([half], env: ["AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "s"])
            }
        }
    }
}
