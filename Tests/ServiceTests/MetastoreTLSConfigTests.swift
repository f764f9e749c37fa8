@testable import SegmentWriterService
import Testing
import TLS

/// `-metastore.grpc-client-config.tls-*` by flag and YAML key, with dskit's names, defaults and checks.
@Suite struct MetastoreTLSConfigTests {
    enum Missing: Error { case file }
    static let prefix = "-metastore.grpc-client-config."

    private func load(_ args: [String], yaml: String? = nil) throws -> ConfigLoader.Result {
        try ConfigLoader.load(arguments: args, environment: [:]) { path in
            guard let yaml, path == "cfg.yaml" else { throw Missing.file }
            return yaml
        }
    }

    private func options(_ flags: [String]) throws -> TLSClientOptions? {
        try load(flags.map { Self.prefix + $0 }).config.metastore.tlsOptions()
    }

    @Test func offByDefaultAndItsOtherSettingsCountOnlyWithIt() throws {
        #expect(try options([]) == nil)
        // dskit dials insecurely with tls-enabled=false whatever the other tls-* settings say.
        let off = try load([Self.prefix + "tls-enabled=false", Self.prefix + "tls-ca-path=/ca.pem", Self.prefix + "tls-min-version=VersionTLS10"])
        #expect(off.ignored.isEmpty)
        #expect(try off.config.metastore.tlsOptions() == nil)
    }

    @Test func flagsBecomeTheContextsOptions() throws {
        var expected = TLSClientOptions(verification: .caFile("/ca.pem"))
        expected.clientCertificate = TLSClientCertificate(certificatePath: "/c.crt", keyPath: "/c.key")
        expected.minimumVersion = .tls13
        expected.cipherSuites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"]
        let result = try load(["tls-enabled=true", "tls-ca-path=/ca.pem", "tls-cert-path=/c.crt", "tls-key-path=/c.key",
                               "tls-server-name=metastore.svc", "tls-min-version=VersionTLS13",
                               "tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256"].map { Self.prefix + $0 })
        #expect(result.ignored.isEmpty)
        #expect(try result.config.metastore.tlsOptions() == expected)
        #expect(result.config.metastore.tlsServerName == "metastore.svc")
        #expect(try options(["tls-enabled=true"]) == TLSClientOptions(verification: .systemCAs), "system CAs, TLS 1.2, no client certificate")
        #expect(try options(["tls-enabled=true", "tls-ca-path=/ca.pem", "tls-insecure-skip-verify=true"])?.verification == .skip)
    }

    @Test func yamlKeysAreDskits() throws {
        let yaml = """
            metastore:
              grpc_client_config:
                tls_enabled: true
                tls_cert_path: /c.crt
                tls_key_path: /c.key
                tls_ca_path: /ca.pem
                tls_server_name: metastore.svc
                tls_insecure_skip_verify: false
                tls_cipher_suites: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                tls_min_version: VersionTLS12
            """
        let result = try load(["-config.file=cfg.yaml"], yaml: yaml)
        #expect(result.ignored.isEmpty)
        let m = result.config.metastore
        #expect(m.tlsEnabled && m.tlsCertPath == "/c.crt" && m.tlsKeyPath == "/c.key" && m.tlsCAPath == "/ca.pem")
        #expect(m.tlsServerName == "metastore.svc" && !m.tlsInsecureSkipVerify)
        #expect(m.tlsCipherSuites == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" && m.tlsMinVersion == "VersionTLS12")
    }

    @Test func whatCannotBeHonouredFailsStartUpNamingTheFlag() {
        let refused = [
            ("tls-cert-path=/c.crt", "certificate given but no key configured"),
            ("tls-key-path=/c.key", "key given but no certificate configured"),
            ("tls-min-version=VersionTLS10", "tls-min-version: VersionTLS10 is not supported"),
            ("tls-min-version=VersionTLS11", "tls-min-version: VersionTLS11 is not supported"),
            ("tls-min-version=TLS1.2", "unknown minimum TLS version: \"TLS1.2\""),
            ("tls-cipher-suites=TLS_NOT_A_SUITE", "tls-cipher-suites: unsupported cipher suite: \"TLS_NOT_A_SUITE\""),
            ("tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,", "unsupported cipher suite: \"\""),
        ]
        for (flag, message) in refused {
            #expect { try load([Self.prefix + "tls-enabled=true", Self.prefix + flag]) } throws: { "\($0)".contains(message) }
        }
    }

    @Test func unusableFilesFailNamingTheFlagAndTheFile() throws {
        let missing = try load([Self.prefix + "tls-enabled=true", Self.prefix + "tls-ca-path=/nonexistent/ca.pem"]).config.metastore
        #expect { try missing.makeTLS() } throws: {
            "\($0)".hasPrefix("-metastore.grpc-client-config.tls-ca-path: cannot load CA file /nonexistent/ca.pem")
        }
        let cert = try load(["tls-enabled=true", "tls-cert-path=/nonexistent/c.crt", "tls-key-path=/nonexistent/c.key"].map { Self.prefix + $0 })
        #expect { try cert.config.metastore.makeTLS() } throws: {
            "\($0)".hasPrefix("-metastore.grpc-client-config.tls-cert-path: cannot load client certificate /nonexistent/c.crt")
        }
    }
}
