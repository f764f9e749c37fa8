@testable import SegmentWriterService
import Testing

/// `-storage.backend=s3` without an access key: the configuration carries what the credential
/// chain found (environment, then shared credentials file), or start-up is refused.
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

    /// Upstream would fall through to IAM, then sign anonymously; here start-up fails and says why.
    @Test func noCredentialsAnywhereRefusesStartUp() {
        #expect {
            try load([], env: [:])
        } throws: { error in
            guard case ConfigError.invalid(let message) = error else { return false }
            return message.hasPrefix("-storage.s3.access-key-id is empty and no S3 credentials were found: ")
                && message.contains("IAM roles (EC2 instance profile, IRSA web identity, ECS/EKS pod identity) are not supported")
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
        #expect {
            try load(["-storage.s3.native-aws-auth-enabled=true"], env: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"])
        } throws: { error in
            "\(error)".hasPrefix("-storage.s3.native-aws-auth-enabled=true and no S3 credentials were found: ")
                && "\(error)".hasSuffix("(AWS_WEB_IDENTITY_TOKEN_FILE is set, but IAM credentials are not supported)")
        }
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
