import ObjectStorage
import Yams

extension SegmentWriterConfig.S3 {
    /// `-storage.s3.sse.*` as the store takes them, checked as upstream checks them: the type
    /// and the context's JSON (Pyroscope's `SSEConfig.Validate`; the context whatever the
    /// type), then SSE-KMS's key (thanos objstore's `validate`). SSE-C, which thanos has,
    /// Pyroscope does not offer.
    func serverSideEncryption() throws(ConfigError) -> S3ServerSideEncryption? {
        guard ["", "SSE-S3", "SSE-KMS"].contains(sseType) else {
            throw .invalid("-storage.s3.sse.type: \"\(sseType)\" is not supported: SSE-S3 or SSE-KMS (empty: none)")
        }
        let context = try Self.encryptionContext(sseKMSEncryptionContext)
        switch sseType {
        case "SSE-S3": return .s3
        case "SSE-KMS":
            guard !sseKMSKeyID.isEmpty else { throw .invalid("-storage.s3.sse.kms-key-id is required with -storage.s3.sse.type=SSE-KMS") }
            return .kms(keyID: sseKMSKeyID, context: context)
        default: return nil
        }
    }

    /// Go's `json.Unmarshal` into a `map[string]string`: an object of string values (empty text
    /// or `null`: none). JSON is YAML, so Yams reads it; quoted scalars are JSON's strings.
    private static func encryptionContext(_ text: String) throws(ConfigError) -> [String: String] {
        let invalid = ConfigError.invalid("-storage.s3.sse.kms-encryption-context: \(text) is not a JSON object of strings")
        guard let node = try? Yams.compose(yaml: text) else {
            if text.allSatisfy(\.isWhitespace) { return [:] }
            throw invalid
        }
        if let scalar = node.scalar, scalar.style == .plain, scalar.string == "null" { return [:] }
        // A block mapping (`"a": "b"` alone) is YAML, not JSON.
        guard let mapping = node.mapping, text.drop(while: \.isWhitespace).hasPrefix("{") else { throw invalid }
        var context: [String: String] = [:]
        for (key, value) in mapping {
            guard let key = key.scalar, key.style == .doubleQuoted, let value = value.scalar, value.style == .doubleQuoted else { throw invalid }
            context[key.string] = value.string
        }
        return context
    }
}
