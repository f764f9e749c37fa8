import BinaryCoding
import Pprof
import TestSupport

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
