import BinaryCoding

/// The series fingerprint: XXH64 (seed 0) over `name 0xFF value 0xFF` for every label in
/// stored order (tsdb-index.md §6). Order matters: enforced and lexicographic order of the
/// same set give different fingerprints.
public enum SeriesFingerprint {
    private static let separator: UInt8 = 0xFF

    public static func of(_ labels: [SeriesLabel]) -> UInt64 {
        var byteCount = 0
        for label in labels { byteCount += label.name.count + label.value.count + 2 }
        // One contiguous scratch buffer (stack-allocated when small): XXH64 is one-shot.
        return withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 1) { scratch in
            var at = 0
            for label in labels {
                at = copy(label.name, into: scratch, at: at)
                scratch[at] = separator
                at = copy(label.value, into: scratch, at: at + 1)
                scratch[at] = separator
                at += 1
            }
            return XXH64.hash(UnsafeRawBufferPointer(scratch))
        }
    }

    @inline(__always)
    private static func copy(_ s: ByteString, into scratch: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        s.bytes.withUnsafeBytes { src in
            UnsafeMutableRawBufferPointer(rebasing: scratch[at ..< at + src.count]).copyMemory(from: src)
        }
        return at + s.count
    }
}
