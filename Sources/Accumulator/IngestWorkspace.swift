import Pprof

/// What one push needs only while it is being ingested: the inflater's output buffer, the
/// decoder's columns and the split/symbol scratch. Each grows to the largest profile seen and
/// keeps that capacity, so the shards of one core share a single workspace instead of holding
/// one each. Confined to its core like the accumulators that use it (a push is ingested start
/// to end before the next begins).
public final class IngestWorkspace {
    /// The decompressed-size bound of the inflater; every accumulator sharing this workspace
    /// must have the same `AccumulatorLimits.profileBytesMax`.
    public let profileBytesMax: Int
    let inflater: ProfileInflater
    let decoder = PprofDecoder()
    var scratch: IngestScratch

    public init(profileBytesMax: Int) {
        self.profileBytesMax = profileBytesMax
        inflater = ProfileInflater(maxDecompressedBytes: profileBytesMax)
        scratch = IngestScratch(labelBytesMax: Self.labelBytesMax(profileBytesMax: profileBytesMax))
    }

    /// Room for the label sets of one profile's groups: four times the profile (real profiles'
    /// sets are a small fraction of it; a crafted one repeating a long string under many sets
    /// is refused instead of exhausting memory), under the 32-bit offsets' limit.
    static func labelBytesMax(profileBytesMax: Int) -> Int {
        min(4 * profileBytesMax + (1 << 20), 3 << 30)
    }
}
