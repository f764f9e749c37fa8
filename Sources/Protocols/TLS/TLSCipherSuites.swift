import CShims

/// Cipher suites named as Go's crypto/tls names them (IANA names; dskit's `-*.tls-cipher-suites`),
/// turned into an OpenSSL cipher list.
public enum TLSCipherSuites {
    /// TLS 1.3's suites, which Go does not let a configuration choose: listed, they have no effect.
    static let tls13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

    /// The OpenSSL cipher list for `names` (nil: keep OpenSSL's defaults, when `names` is empty or
    /// lists TLS 1.3 suites only). A name OpenSSL does not offer, or an empty one, is refused as
    /// dskit refuses a name Go does not know.
    public static func openSSLList(_ names: [String]) throws(TLSError) -> String? {
        guard !names.isEmpty else { return nil }
        var list: [String] = []
        for name in names where !tls13.contains(name) {
            guard let openSSLName = OPENSSL_cipher_name(name).map({ String(cString: $0) }), openSSLName != "(NONE)" else {
                throw .unsupported("unsupported cipher suite: \"\(name)\" (not offered by this writer's OpenSSL)")
            }
            list.append(openSSLName)
        }
        return list.isEmpty ? nil : list.joined(separator: ":")
    }
}
