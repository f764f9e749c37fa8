import BinaryCoding
import Pprof
import TestSupport

/// Parses spec hex (whitespace ignored).
func hexBytes(_ s: String) -> [UInt8] {
    let digits = s.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i ..< j], radix: 16)!)
        i = j
    }
    return out
}

/// SplitMix64: a small seeded generator so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A shared-corpus pprof file, as stored.
func corpusFile(_ name: String) throws -> [UInt8] {
    try TestData.bytes(TestData.pprofDirectory.appendingPathComponent(name))
}

/// Inflates and decodes `stored` (gzip or raw), resolving references when asked.
func decodeProfile(_ stored: [UInt8], inflater: ProfileInflater = ProfileInflater(),
                   decoder: PprofDecoder = PprofDecoder(), resolve: Bool = true) throws -> PprofProfile {
    try stored.withUnsafeBytes { raw in
        let bytes = try inflater.inflate(raw)
        try decoder.decode(bytes)
        if resolve { try decoder.resolveReferences() }
        return PprofProfile(decoder)
    }
}

extension String {
    var byteString: ByteString { ByteString(self) }
}
