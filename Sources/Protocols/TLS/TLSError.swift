import CShims

/// Which file of a client configuration could not be used (the caller names its flag).
public enum TLSFile: Sendable, Equatable {
    case caCertificates
    case clientCertificate
    case clientKey
}

/// Why a TLS context could not be made or a session failed.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A CA, certificate or key file missing, unreadable, or holding nothing OpenSSL accepts.
    case unusableFile(TLSFile, path: String, reason: String)
    /// A setting OpenSSL cannot honour here (a cipher suite it does not offer).
    case unsupported(String)
    /// OpenSSL failed: context set-up, the handshake (certificate verification included), a record.
    case failed(String)

    public var description: String {
        switch self {
        case .unusableFile(let file, let path, let reason): "cannot load \(file.noun) \(path): \(reason)"
        case .unsupported(let message), .failed(let message): message
        }
    }

    /// Empties OpenSSL's per-thread error queue into one line.
    static func drainOpenSSLErrors() -> String {
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

extension TLSFile {
    var noun: String {
        switch self {
        case .caCertificates: "CA file"
        case .clientCertificate: "client certificate"
        case .clientKey: "client key"
        }
    }
}
