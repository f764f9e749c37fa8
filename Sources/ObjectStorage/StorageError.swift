/// Everything that can make a storage operation fail, typed so the flush path can decide
/// between retry (transport, 5xx) and give-up (signature, access) without parsing text.
public enum StorageError: Error, Equatable, Sendable {
    /// The object path is not a relative `/`-separated path of non-empty, non-dot parts.
    case invalidPath(String)
    /// A filesystem call failed; `errno` is the C error number.
    case filesystem(operation: String, path: String, errno: Int32)
    /// Connecting, sending or receiving failed (includes timeouts and early close).
    case transport(String)
    /// TLS handshake, verification or record failure (OpenSSL's error text).
    case tls(String)
    /// The store answered with a non-2xx status; `code`/`message` come from its error XML
    /// (e.g. `SignatureDoesNotMatch`), empty when the body had none.
    case service(status: Int, code: String, message: String)
    /// The store's answer could not be parsed.
    case malformedResponse(String)
    /// The configuration cannot work (missing bucket, bad endpoint, unreadable CA file).
    case configuration(String)
    /// The caller cancelled the operation (`ObjectStore.cancelPuts`).
    case cancelled

    /// Worth retrying: transient network trouble, throttling or a server-side error.
    public var isRetryable: Bool {
        switch self {
        case .transport, .malformedResponse: true
        case .service(let status, let code, _): status >= 500 || status == 429 || code == "RequestTimeout" || code == "SlowDown"
        default: false
        }
    }
}
