import Synchronization

/// The credentials every S3 request is signed with, read at signing time by every loop's
/// client: fixed ones (configuration, environment, shared credentials file), or an IAM
/// source's, which `AWSCredentialsRefresher` replaces before they expire.
public final class AWSCredentialsProvider: Sendable {
    private let credentials: Mutex<AWSCredentials>

    public init(_ credentials: AWSCredentials) {
        self.credentials = Mutex(credentials)
    }

    public var current: AWSCredentials { credentials.withLock { $0 } }

    func replace(with fresh: AWSCredentials) {
        credentials.withLock { $0 = fresh }
    }
}
