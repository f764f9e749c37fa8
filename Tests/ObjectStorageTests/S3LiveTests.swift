import ObjectStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs against a real S3 server; `Tests/Python/test_object_storage_s3.py` starts moto and sets:
/// `OBJSTORE_S3_ENDPOINT` (`http://…` or `https://…`), `_BUCKET`, `_ACCESS_KEY_ID`,
/// `_SECRET_ACCESS_KEY`, `_PREFIX`, `_PAYLOAD_FILE` (bytes to upload) and `_KEYS`
/// (comma-separated object paths; pytest reads them back with boto3 and compares bytes).
/// Skipped when the variables are unset.
@Suite(.serialized, .enabled(if: LiveS3.current != nil))
struct S3LiveTests {
    static let ringWrittenPath = "segments/7/anonymous/loop/block.bin"

    @Test func putsObjectsThatReadBackIdentically() throws {
        let env = try #require(LiveS3.current)
        let store = try S3ObjectStore(configuration: env.configuration, prefix: env.prefix)
        var health: Result<Void, StorageError>?
        store.checkHealth { health = $0 }
        try health!.get()
        for (i, key) in env.keys.enumerated() {
            let bytes = i == 0 ? env.payload : Array(env.payload.prefix(i * 1000))
            try putSync(store, key, bytes).get()
            #expect(try getSync(store, key).get() == bytes)
        }
        // moto's werkzeug server answers `Connection: close`: the transport must reconnect each time
        // (keep-alive reuse is covered by BlockingHTTPTransportTests on a loopback server).
        #expect(store.connectionsOpened == 1 + 2 * env.keys.count)

        let listed = try store.transport.roundTrip(store.client.listObjectsV2(prefix: env.prefix + "/", date: .now()))
        try S3Client.check(listed)
        #expect(Set(env.keys.map { env.prefix + "/" + $0 }).isSubset(of: S3Client.parseList(listed.body).keys))
        // What loadgen's audit reads: paths under a directory, without the prefix, over several
        // pages (continuation tokens), odd keys decoded from the XML.
        let segments = env.keys.filter { $0.hasPrefix("segments/") }.sorted()
        #expect(segments.count >= 3, "the keys pytest sets span pages of two")
        // (`ringDrivenStoreWritesAndReadsBack` may have run first: its object is not one of the keys.)
        #expect(try store.paths(under: "segments", keysPerPage: 2).filter { $0 != Self.ringWrittenPath } == segments)
        #expect(try store.paths(under: "dlq") == env.keys.filter { $0.hasPrefix("dlq/") })
        #expect(try store.paths(under: "absent").isEmpty)
        let head = try store.transport.roundTrip(store.client.headObject(key: env.prefix + "/" + env.keys[0], date: .now()))
        try S3Client.check(head)
        #expect(head.body.isEmpty && head.header("content-length") == String(env.payload.count))
        let missing = try store.transport.roundTrip(store.client.headObject(key: env.prefix + "/absent", date: .now()))
        #expect(throws: StorageError.service(status: 404, code: "NotFound", message: missing.reason)) { try S3Client.check(missing) }
    }

    @Test func ringDrivenStoreWritesAndReadsBack() throws {
        let env = try #require(LiveS3.current)
        let outcomes = Outcomes()
        let payload = env.payload
        let configuration = env.configuration
        let prefix = env.prefix
        try onLoop { loop, done in
            let store: RingS3ObjectStore
            do {
                guard let ring = loop.ring else { throw StorageError.configuration("no io_uring") }
                store = try RingS3ObjectStore(loop: loop, ring: ring, configuration: configuration, prefix: prefix)
            } catch {
                outcomes.add("init \(error)")
                return done()
            }
            store.checkHealth { health in
                outcomes.add("health \(health)")
                store.put(Self.ringWrittenPath, payload) { put in
                    outcomes.add("put \(put)")
                    store.get(Self.ringWrittenPath) { get in
                        outcomes.add("get \((try? get.get()) == payload)")
                        // Every connection (TLS included) was connected, fed and read through the ring.
                        let ops = store.ringCompletions
                        outcomes.add("ring \(ops.connect == store.connectionsOpened && ops.send >= 3 && ops.recv >= 3)")
                        done()
                    }
                }
            }
        }
        #expect(outcomes.all == ["health success()", "put success()", "get true", "ring true"])
    }

    @Test func wrongSecretFailsWithSignatureDoesNotMatch() throws {
        var configuration = try #require(LiveS3.current).configuration
        var wrong = configuration.credentials.current
        wrong.secretAccessKey += "x"
        configuration.credentials = AWSCredentialsProvider(wrong)
        let store = try S3ObjectStore(configuration: configuration)
        let result = putSync(store, "segments/9/anonymous/wrong-secret/block.bin", [1, 2, 3])
        guard case .failure(.service(403, "SignatureDoesNotMatch", _)) = result else {
            Issue.record("expected SignatureDoesNotMatch, got \(result)")
            return
        }
    }

    @Test(.enabled(if: LiveS3.current?.configuration.endpoint.hasPrefix("https://") == true))
    func tlsWithVerificationRefusesASelfSignedCertificate() throws {
        let env = try #require(LiveS3.current)
        var configuration = env.configuration
        configuration.tlsVerification = .systemCAs
        let store = try S3ObjectStore(configuration: configuration)
        var health: Result<Void, StorageError>?
        store.checkHealth { health = $0 }
        guard case .failure(.tls(let message)) = health else {
            Issue.record("expected a TLS verification failure, got \(String(describing: health))")
            return
        }
        #expect(message.contains("certificate"))
    }
}

enum LiveS3 {
    struct Environment {
        var configuration: S3Configuration
        var prefix: String
        var payload: [UInt8]
        var keys: [String]
    }

    static let current: Environment? = {
        func value(_ name: String) -> String? { getenv("OBJSTORE_S3_" + name).map { String(cString: $0) } }
        guard let endpoint = value("ENDPOINT"), let bucket = value("BUCKET"), let key = value("ACCESS_KEY_ID"),
              let secret = value("SECRET_ACCESS_KEY"), let payloadFile = value("PAYLOAD_FILE"), let keys = value("KEYS")
        else { return nil }
        let configuration = S3Configuration(
            endpoint: endpoint, bucketName: bucket, credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret),
            bucketLookup: .pathStyle, tlsVerification: .skip, ioTimeoutMs: 10_000)
        guard let payload = try? FilesystemObjectStore.readFile(payloadFile) else { return nil }
        return Environment(configuration: configuration, prefix: value("PREFIX") ?? "", payload: payload,
                           keys: keys.split(separator: ",").map(String.init))
    }()
}
