import CShims

/// How a TLS client checks the server's certificate
/// (`-storage.s3.http.insecure-skip-verify` selects `.skip`).
public enum TLSVerification: Sendable, Equatable {
    /// The system's CA store (OpenSSL's default verify paths) and the host name.
    case systemCAs
    /// The CAs in one PEM file, and the host name.
    case caFile(String)
    /// No certificate or host name check (test stores with self-signed certificates).
    case skip
}

/// An OpenSSL `SSL_CTX` for clients: TLS 1.2 or later, CAs loaded once at start-up and shared by
/// every session (after set-up OpenSSL treats it as read-only, so sharing across threads is safe).
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer
    public let verification: TLSVerification

    public init(verification: TLSVerification) throws(StorageError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .tls("SSL_CTX_new: \(TLSError.drain())") }
        self.context = context
        self.verification = verification
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        switch verification {
        case .systemCAs:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw .tls("loading system CAs: \(TLSError.drain())") }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .caFile(let path):
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw .configuration("cannot load CA file \(path): \(TLSError.drain())")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .skip:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
    }

    deinit { SSL_CTX_free(context) }
}

enum TLSError {
    /// Empties OpenSSL's per-thread error queue into one line.
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            messages.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "unknown error" : messages.joined(separator: "; ")
    }
}
