/// The delays between attempts, as dskit's `backoff.Backoff` draws them (upstream's upload
/// retries, ingest-and-ops.md §1.4, and its metastore client's, segment-object.md §11.3): each
/// at random in a range that starts at [min, 2·min) and doubles after every draw, both ends
/// capped at max.
public struct RetryBackoff: Sendable {
    private let maxNs: UInt64
    private var nextMinNs: UInt64
    private var nextMaxNs: UInt64

    public init(minNs: UInt64, maxNs: UInt64) {
        self.maxNs = maxNs
        nextMinNs = minNs
        nextMaxNs = Self.doubled(minNs, cappedAt: maxNs)
    }

    public mutating func nextDelayNs(using random: inout some RandomNumberGenerator) -> UInt64 {
        // As dskit: an empty range (min == max, or max configured below min) gives its start.
        guard nextMinNs < nextMaxNs else { return nextMinNs }
        let delayNs = nextMinNs + UInt64.random(in: 0 ..< nextMaxNs - nextMinNs, using: &random)
        if nextMaxNs < maxNs {
            nextMinNs = Self.doubled(nextMinNs, cappedAt: maxNs)
            nextMaxNs = Self.doubled(nextMaxNs, cappedAt: maxNs)
        }
        return delayNs
    }

    private static func doubled(_ ns: UInt64, cappedAt maxNs: UInt64) -> UInt64 {
        ns > maxNs / 2 ? maxNs : ns * 2
    }
}
