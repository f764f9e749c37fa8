/// `-storage.s3.sse.*`: how S3 is to encrypt the objects this writer puts, sent as the headers
/// minio-go's `encrypt.ServerSide` writes on a PUT (thanos objstore passes it to every upload;
/// reads of SSE-S3 and SSE-KMS objects need no header).
public enum S3ServerSideEncryption: Sendable, Equatable {
    /// SSE-S3: keys managed by S3 (AES-256).
    case s3
    /// SSE-KMS with this KMS key and encryption context.
    case kms(keyID: String, context: [String: String])

    /// The PUT headers (signed with the rest of the request).
    var headers: [(name: String, value: String)] {
        switch self {
        case .s3:
            return [("x-amz-server-side-encryption", "AES256")]
        case .kms(let keyID, let context):
            // thanos objstore always sends a context (`{}` when none: AWS refuses a base64 `null`).
            var headers = [(name: "x-amz-server-side-encryption", value: "aws:kms")]
            if !keyID.isEmpty { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", keyID)) }
            headers.append(("x-amz-server-side-encryption-context", Crypto.base64(Array(Self.json(context).utf8))))
            return headers
        }
    }

    /// The context as Go's `json.Marshal` writes a `map[string]string`: keys in byte order,
    /// `<`, `>`, `&`, U+2028 and U+2029 escaped, so the header is byte for byte upstream's.
    static func json(_ object: [String: String]) -> String {
        let keys = object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return "{" + keys.map { jsonString($0) + ":" + jsonString(object[$0]!) }.joined(separator: ",") + "}"
    }

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
