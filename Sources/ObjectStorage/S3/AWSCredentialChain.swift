/// Credentials for a configuration that names no access key, found as thanos objstore's
/// `NewBucketWithConfig` has minio-go find them: the environment, then the shared credentials
/// file, then IAM (`AWSIAMSource`), which is only chosen here: it is asked at start-up, over the
/// network. Finding nothing fails start-up rather than every upload with 403.
public enum AWSCredentialChain {
    public struct Found: Sendable, Equatable {
        public var credentials: AWSCredentials
        /// For the start-up log: `environment`, or the file and `[profile]`.
        public var source: String
    }

    /// What the chain settled on without the network.
    public enum Resolution: Sendable, Equatable {
        /// Fixed credentials, never refreshed.
        case found(Found)
        /// IAM's, to be fetched at start-up; `looked` says what the sources before it gave.
        case iam(AWSIAMSource, looked: [String])
    }

    /// `environment` is the process's; `readFile` reads the shared credentials file.
    public static func resolve(environment: [String: String],
                               readFile: (String) throws -> String) throws(AWSCredentialsError) -> Resolution {
        var looked: [String] = []
        if let found = try fromEnvironment(environment) { return .found(found) }
        looked.append("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        if let found = try fromSharedFile(environment, readFile: readFile, looked: &looked) { return .found(found) }
        if let source = try AWSIAMSource.select(environment) { return .iam(source, looked: looked) }
        looked.append("AWS_EC2_METADATA_DISABLED is true, so no instance profile is asked for")
        throw .notFound(looked: looked)
    }

    /// minio-go's `EnvAWS`: the `AWS_ACCESS_KEY` and `AWS_SECRET_KEY` spellings are taken too.
    private static func fromEnvironment(_ environment: [String: String]) throws(AWSCredentialsError) -> Found? {
        func value(_ names: String...) -> String { names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? "" }
        let credentials = AWSCredentials(accessKeyID: value("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
                                         secretAccessKey: value("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"),
                                         sessionToken: value("AWS_SESSION_TOKEN"))
        return try found(credentials, source: "environment")
    }

    /// minio-go's `FileAWSCredentials`: `AWS_SHARED_CREDENTIALS_FILE` or `$HOME/.aws/credentials`,
    /// profile `AWS_PROFILE` or `default`. A file that cannot be read or lacks the profile is
    /// skipped, as the chain skips a provider that fails.
    private static func fromSharedFile(_ environment: [String: String], readFile: (String) throws -> String,
                                       looked: inout [String]) throws(AWSCredentialsError) -> Found? {
        let path: String
        if let named = environment["AWS_SHARED_CREDENTIALS_FILE"], !named.isEmpty {
            path = named
        } else if let home = environment["HOME"], !home.isEmpty {
            path = (home.hasSuffix("/") ? String(home.dropLast()) : home) + "/.aws/credentials"
        } else {
            looked.append("HOME is not set, so there is no ~/.aws/credentials")
            return nil
        }
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        guard let text = try? readFile(path) else {
            looked.append("\(path) cannot be read")
            return nil
        }
        guard let section = AWSSharedCredentialsFile.section(profile, in: text) else {
            looked.append("\(path) has no [\(profile)] profile")
            return nil
        }
        let source = "\(path) [\(profile)]"
        // minio-go would run it; this writer does not run commands for credentials.
        guard (section["credential_process"] ?? "").isEmpty else { throw .credentialProcessUnsupported(source: source) }
        let credentials = AWSCredentials(accessKeyID: section["aws_access_key_id"] ?? "",
                                         secretAccessKey: section["aws_secret_access_key"] ?? "",
                                         sessionToken: section["aws_session_token"] ?? "")
        guard let found = try found(credentials, source: source) else {
            looked.append("\(source) has no aws_access_key_id")
            return nil
        }
        return found
    }

    /// minio-go's chain takes a source with either half of a key pair; with one half every
    /// request would be refused, so that is an error here.
    private static func found(_ credentials: AWSCredentials, source: String) throws(AWSCredentialsError) -> Found? {
        switch (credentials.accessKeyID.isEmpty, credentials.secretAccessKey.isEmpty) {
        case (true, true): return nil
        case (false, false): return Found(credentials: credentials, source: source)
        default: throw .partialKeyPair(source: source)
        }
    }
}

/// Why `AWSCredentialChain` found no credentials to sign with.
public enum AWSCredentialsError: Error, Equatable, CustomStringConvertible {
    /// The source has an access key without its secret, or a secret without its key.
    case partialKeyPair(source: String)
    /// The profile names a `credential_process`, which this writer does not run.
    case credentialProcessUnsupported(source: String)
    /// An IAM variable cannot work (web identity without a role, a malformed URL).
    case invalidSetting(String)
    /// No source gave credentials; `looked` says what each gave.
    case notFound(looked: [String])

    public var description: String {
        switch self {
        case .partialKeyPair(let source):
            return "\(source) has only one of the access key ID and the secret access key"
        case .credentialProcessUnsupported(let source):
            return "\(source) names a credential_process, which this writer does not run"
        case .invalidSetting(let message):
            return message
        case .notFound(let looked):
            return "no S3 credentials were found: " + looked.joined(separator: "; ")
                + ". This writer takes them from the configuration, the environment (AWS_ACCESS_KEY_ID, "
                + "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials file "
                + "(AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or default) "
                + "or IAM (web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN; container credentials: "
                + "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI; else the EC2 instance profile)"
        }
    }
}
