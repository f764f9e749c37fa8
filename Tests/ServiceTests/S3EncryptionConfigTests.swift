import ObjectStorage
@testable import SegmentWriterService
import Testing

/// `-storage.s3.sse.*` by flag and YAML key, checked as Pyroscope and thanos objstore check them.
@Suite struct S3EncryptionConfigTests {
    enum Missing: Error { case file }
    static let s3 = ["-storage.backend=s3", "-storage.s3.endpoint=127.0.0.1:9000", "-storage.s3.bucket-name=b",
                     "-storage.s3.access-key-id=k", "-storage.s3.secret-access-key=s"]

    private func load(_ args: [String], yaml: String? = nil) throws -> ConfigLoader.Result {
        try ConfigLoader.load(arguments: Self.s3 + args, environment: [:]) { path in
            guard let yaml, path == "cfg.yaml" else { throw Missing.file }
            return yaml
        }
    }

    @Test func flagsReachTheStore() throws {
        let result = try load(["-storage.s3.sse.type=SSE-KMS", "-storage.s3.sse.kms-key-id=key-1",
                               #"-storage.s3.sse.kms-encryption-context={"team": "profiles", "env":"prod"}"#])
        #expect(result.ignored.isEmpty)
        #expect(result.config.storageConfiguration.s3?.serverSideEncryption == .kms(keyID: "key-1", context: ["team": "profiles", "env": "prod"]))
        #expect(try load(["-storage.s3.sse.type=SSE-S3"]).config.storageConfiguration.s3?.serverSideEncryption == .s3)
        #expect(try load([]).config.storageConfiguration.s3?.serverSideEncryption == nil)
    }

    @Test func yamlKeysArePyroscopes() throws {
        let yaml = """
            storage:
              s3:
                sse:
                  type: SSE-KMS
                  kms_key_id: key-2
                  kms_encryption_context: '{"a": "b"}'
            """
        let result = try load(["-config.file=cfg.yaml"], yaml: yaml)
        #expect(result.ignored.isEmpty)
        #expect(result.config.storageConfiguration.s3?.serverSideEncryption == .kms(keyID: "key-2", context: ["a": "b"]))
    }

    @Test func unsupportedTypeIsRefused() {
        for type in ["SSE-C", "AES256", "sse-s3"] {
            #expect(throws: ConfigError.invalid("-storage.s3.sse.type: \"\(type)\" is not supported: SSE-S3 or SSE-KMS (empty: none)")) {
                try load(["-storage.s3.sse.type=\(type)"])
            }
        }
    }

    @Test func sseKMSNeedsItsKey() {
        #expect(throws: ConfigError.invalid("-storage.s3.sse.kms-key-id is required with -storage.s3.sse.type=SSE-KMS")) {
            try load(["-storage.s3.sse.type=SSE-KMS"])
        }
    }

    /// Pyroscope checks the context's JSON whatever the type; `null` and empty are no context.
    @Test func contextMustBeAJSONObjectOfStrings() throws {
        for bad in [#"{"a": 1}"#, #"["a"]"#, "{a: b}", #"{"a": 'b'}"#, "text", #"{"a": "b""#] {
            #expect(throws: ConfigError.invalid("-storage.s3.sse.kms-encryption-context: \(bad) is not a JSON object of strings")) {
                try load(["-storage.s3.sse.kms-encryption-context=\(bad)"])
            }
        }
        for none in ["", "null", "{}"] {
            let c = try load(["-storage.s3.sse.type=SSE-KMS", "-storage.s3.sse.kms-key-id=k", "-storage.s3.sse.kms-encryption-context=\(none)"])
            #expect(c.config.storageConfiguration.s3?.serverSideEncryption == .kms(keyID: "k", context: [:]))
        }
    }
}
