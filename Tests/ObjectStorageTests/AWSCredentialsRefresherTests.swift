@testable import ObjectStorage
import Synchronization
import Testing

/// When IAM credentials are fetched again (an injected clock and fetch), what a failure does,
/// and that signing threads always read a whole key pair while it is replaced.
@Suite struct AWSCredentialsRefresherTests {
    static func credentials(_ name: String, expirationMs: Int64) -> AWSTemporaryCredentials {
        AWSTemporaryCredentials(credentials: AWSCredentials(accessKeyID: "AK\(name)", secretAccessKey: "S\(name)", sessionToken: "T\(name)"),
                                expirationMs: expirationMs)
    }

    static let source = AWSIAMSource.instanceProfile(endpoint: try! AWSServiceURL.parse("http://127.0.0.1:9", named: "test"))

    @Test func refreshIsDueAt80PercentOr5MinutesBeforeExpiryButNotBeforeHalfTheLifetime() {
        let hour: Int64 = 3_600_000
        #expect(AWSCredentialsRefresher.refreshAtMs(obtainedAtMs: 0, expirationMs: hour) == hour * 4 / 5)
        #expect(AWSCredentialsRefresher.refreshAtMs(obtainedAtMs: 0, expirationMs: 15 * 60_000) == 10 * 60_000)
        #expect(AWSCredentialsRefresher.refreshAtMs(obtainedAtMs: 1_000, expirationMs: 5_000) == 3_000)
        #expect(AWSCredentialsRefresher.refreshAtMs(obtainedAtMs: 1_000, expirationMs: 1_500) == 2_000)  // never sooner than 1 s
        #expect(AWSCredentialsRefresher.refreshAtMs(obtainedAtMs: 1_000, expirationMs: 0) == 2_000)  // already expired
    }

    @Test func aFailedRefreshKeepsTheCredentialsAndRetriesWithBackoff() {
        let answers = Mutex<[Result<AWSTemporaryCredentials, AWSIAMError>]>([
            .failure(.transport(.transport("connection refused"))), .failure(.status(500, detail: "")),
            .success(Self.credentials("second", expirationMs: 100_000 + 3_600_000)),
        ])
        let warnings = Mutex<[String]>([])
        let refresher = AWSCredentialsRefresher(
            source: Self.source, first: Self.credentials("first", expirationMs: 10_000), nowMs: 0,
            fetch: { () throws(AWSIAMError) in try answers.withLock { $0.removeFirst() }.get() },
            warn: { message, fields in warnings.withLock { $0.append(message + " " + fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) } })
        #expect(refresher.step(nowMs: 0) == 5_000)  // not due: nothing fetched; half of a 10 s lifetime
        #expect(answers.withLock { $0.count } == 3)
        #expect(refresher.step(nowMs: 5_000) == 6_000)
        #expect(refresher.provider.current.accessKeyID == "AKfirst")
        #expect(refresher.step(nowMs: 6_000) == 8_000)
        #expect(refresher.provider.current.accessKeyID == "AKfirst")
        #expect(warnings.withLock { $0 } == [
            "s3 credentials refresh failed, the current ones are kept source=instance-profile err=transport(\"connection refused\") retry_in_ms=1000",
            "s3 credentials refresh failed, the current ones are kept source=instance-profile err=HTTP 500 retry_in_ms=2000",
        ])
        #expect(refresher.step(nowMs: 100_000) == 100_000 + 3_600_000 * 4 / 5)
        #expect(refresher.provider.current == Self.credentials("second", expirationMs: 0).credentials)
        #expect(AWSCredentialsRefresher.retryDelayMs(failures: 7) == 60_000 && AWSCredentialsRefresher.retryDelayMs(failures: 60) == 60_000)
    }

    /// The refresh thread replaces the credentials while loops sign: every read is one whole set.
    @Test func readersSeeWholeCredentialsWhileTheyAreReplaced() async {
        let provider = AWSCredentialsProvider(AWSCredentials(accessKeyID: "AK0", secretAccessKey: "S0", sessionToken: "T0"))
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for i in 1...20_000 { provider.replace(with: AWSCredentials(accessKeyID: "AK\(i)", secretAccessKey: "S\(i)", sessionToken: "T\(i)")) }
                return true
            }
            for _ in 0..<3 {
                group.addTask {
                    (0..<20_000).allSatisfy { _ in
                        let c = provider.current
                        return c.accessKeyID.dropFirst(2) == c.secretAccessKey.dropFirst() && c.sessionToken.dropFirst() == c.secretAccessKey.dropFirst()
                    }
                }
            }
            for await whole in group { #expect(whole) }
        }
        #expect(provider.current.accessKeyID == "AK20000")
    }

    /// `start` fetches once (a failure fails it) and `stop` ends the thread.
    @Test func startFailsWhenTheFirstFetchFailsAndStopEndsTheThread() throws {
        let closed = AWSIAMClient(source: Self.source)
        #expect(throws: AWSIAMError.self) { try AWSCredentialsRefresher.start(client: closed, timeoutMs: 500, warn: { _, _ in }) }
        let refresher = AWSCredentialsRefresher(source: Self.source, first: Self.credentials("first", expirationMs: Int64.max / 2),
                                                nowMs: AWSCredentialsRefresher.wallClockMs,
                                                fetch: { () throws(AWSIAMError) in throw .noInstanceRole }, warn: { _, _ in })
        refresher.run()
        refresher.stop()
        #expect(refresher.provider.current.accessKeyID == "AKfirst")
    }
}
