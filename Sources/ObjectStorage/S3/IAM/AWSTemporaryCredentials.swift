/// Credentials an IAM source handed out, and when they stop working.
public struct AWSTemporaryCredentials: Sendable, Equatable {
    public var credentials: AWSCredentials
    /// Unix time in milliseconds.
    public var expirationMs: Int64

    public init(credentials: AWSCredentials, expirationMs: Int64) {
        self.credentials = credentials
        self.expirationMs = expirationMs
    }

    /// Every IAM answer is read whole into memory; a real one is a few KiB.
    public static let responseBytesMax = 64 << 10

    /// STS's `AssumeRoleWithWebIdentityResponse` (XML): `Credentials` with `AccessKeyId`,
    /// `SecretAccessKey`, `SessionToken`, `Expiration`.
    public static func parseSTS(_ body: [UInt8]) throws(AWSIAMError) -> AWSTemporaryCredentials {
        guard body.count <= responseBytesMax else { throw .tooLarge(what: "the STS answer", bytesMax: responseBytesMax) }
        let text = String(decoding: body, as: UTF8.self)
        guard let inner = XMLText.firstElement("Credentials", in: text) else { throw .malformed("the STS answer has no Credentials") }
        // `firstElement` decoded the entities of the whole element; the fields hold none in practice
        // (base64 and ISO 8601), and a decoded `&lt;` in one would only fail its own check.
        func field(_ name: String) throws(AWSIAMError) -> String {
            guard let value = XMLText.firstElement(name, in: inner), !value.isEmpty else { throw .malformed("the STS answer has no \(name)") }
            return value
        }
        return try make(accessKeyID: field("AccessKeyId"), secretAccessKey: field("SecretAccessKey"),
                        sessionToken: field("SessionToken"), expiration: field("Expiration"))
    }

    /// The JSON the container credentials endpoint and IMDS answer: `AccessKeyId`,
    /// `SecretAccessKey`, `Token`, `Expiration`; IMDS's also says `"Code": "Success"`, which
    /// minio-go requires of it.
    public static func parseJSON(_ body: [UInt8], requireSuccessCode: Bool) throws(AWSIAMError) -> AWSTemporaryCredentials {
        guard body.count <= responseBytesMax else { throw .tooLarge(what: "the credentials answer", bytesMax: responseBytesMax) }
        let object = try FlatJSONObject.parse(body)
        if requireSuccessCode, object["Code"] != "Success" {
            throw .malformed("the credentials answer's Code is \(object["Code"] ?? "missing"): \(object["Message"] ?? "")")
        }
        func field(_ name: String) throws(AWSIAMError) -> String {
            guard let value = object[name], !value.isEmpty else { throw .malformed("the credentials answer has no \(name)") }
            return value
        }
        return try make(accessKeyID: field("AccessKeyId"), secretAccessKey: field("SecretAccessKey"),
                        sessionToken: field("Token"), expiration: field("Expiration"))
    }

    private static func make(accessKeyID: String, secretAccessKey: String, sessionToken: String,
                             expiration: String) throws(AWSIAMError) -> AWSTemporaryCredentials {
        // The key and token go into request headers.
        for (name, value) in [("AccessKeyId", accessKeyID), ("Token", sessionToken)]
        where value.utf8.contains(where: { $0 < 32 || $0 == 127 }) {
            throw .malformed("the credentials' \(name) contains a control character")
        }
        guard let expirationMs = RFC3339Time.unixMs(expiration) else { throw .malformed("the credentials' Expiration \(expiration) is not an RFC 3339 time") }
        return AWSTemporaryCredentials(credentials: AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey,
                                                                   sessionToken: sessionToken),
                                       expirationMs: expirationMs)
    }
}

/// Why an IAM source gave no credentials.
public enum AWSIAMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Connecting, sending or receiving failed, or the request's deadline passed.
    case transport(StorageError)
    /// The service answered with another status than 200; `detail` is its error code and message, if any.
    case status(Int, detail: String)
    /// The answer could not be read as credentials.
    case malformed(String)
    /// An answer or file is larger than anything the service sends.
    case tooLarge(what: String, bytesMax: Int)
    /// A token file could not be read.
    case unreadableFile(path: String, reason: String)
    /// IMDS lists no role for this instance.
    case noInstanceRole

    public var description: String {
        switch self {
        case .transport(let error): "\(error)"
        case .status(let status, let detail): "HTTP \(status)" + (detail.isEmpty ? "" : " \(detail)")
        case .malformed(let reason): reason
        case .tooLarge(let what, let bytesMax): "\(what) is larger than \(bytesMax) bytes"
        case .unreadableFile(let path, let reason): "\(path) cannot be read: \(reason)"
        case .noInstanceRole: "the instance has no IAM role"
        }
    }
}
