import Metastore
import TLS

extension SegmentWriterConfig.Metastore {
    static let tlsFlagPrefix = "-metastore.grpc-client-config."

    /// The `tls-*` settings as a TLS context takes them (nil with `tls-enabled=false`, where dskit
    /// dials insecurely whatever they say), checked as dskit's `GetTLSConfig` checks them, and
    /// refused where OpenSSL here cannot honour them. Reads no file.
    func tlsOptions() throws(ConfigError) -> TLSClientOptions? {
        guard tlsEnabled else { return nil }
        let flag = Self.tlsFlagPrefix
        var options = TLSClientOptions(verification: tlsInsecureSkipVerify ? .skip : tlsCAPath.isEmpty ? .systemCAs : .caFile(tlsCAPath))
        if !tlsCertPath.isEmpty || !tlsKeyPath.isEmpty {
            guard !tlsCertPath.isEmpty else { throw .invalid("\(flag)tls-key-path: key given but no certificate configured (\(flag)tls-cert-path)") }
            guard !tlsKeyPath.isEmpty else { throw .invalid("\(flag)tls-cert-path: certificate given but no key configured (\(flag)tls-key-path)") }
            options.clientCertificate = TLSClientCertificate(certificatePath: tlsCertPath, keyPath: tlsKeyPath)
        }
        options.minimumVersion = try Self.minimumVersion(tlsMinVersion)
        if !tlsCipherSuites.isEmpty {
            // dskit drops spaces and splits on commas.
            options.cipherSuites = String(tlsCipherSuites.filter { $0 != " " }).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            do { _ = try TLSCipherSuites.openSSLList(options.cipherSuites) } catch { throw .invalid("\(flag)tls-cipher-suites: \(error)") }
        }
        return options
    }

    /// The client's TLS, its files read now: one that cannot be used fails start-up, naming its flag.
    func makeTLS() throws(ConfigError) -> MetastoreTLS? {
        guard let options = try tlsOptions() else { return nil }
        do {
            return try MetastoreTLS(options: options, serverName: tlsServerName.isEmpty ? nil : tlsServerName)
        } catch {
            if case .unusableFile(let file, _, _) = error { throw .invalid("\(Self.tlsFlagPrefix)\(Self.flagName(of: file)): \(error)") }
            throw .invalid("\(Self.tlsFlagPrefix)tls-*: \(error)")
        }
    }

    /// dskit's `tls-min-version` values; Go's client default (empty) is TLS 1.2.
    static func minimumVersion(_ name: String) throws(ConfigError) -> TLSVersion {
        switch name {
        case "", "VersionTLS12": return .tls12
        case "VersionTLS13": return .tls13
        case "VersionTLS10", "VersionTLS11":
            throw .invalid("\(tlsFlagPrefix)tls-min-version: \(name) is not supported: this writer speaks TLS 1.2 or later (VersionTLS12, VersionTLS13)")
        default:
            throw .invalid("\(tlsFlagPrefix)tls-min-version: unknown minimum TLS version: \"\(name)\" (VersionTLS12 or VersionTLS13)")
        }
    }

    private static func flagName(of file: TLSFile) -> String {
        switch file {
        case .caCertificates: "tls-ca-path"
        case .clientCertificate: "tls-cert-path"
        case .clientKey: "tls-key-path"
        }
    }
}
