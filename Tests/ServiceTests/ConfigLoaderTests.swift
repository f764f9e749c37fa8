import Foundation
import HTTP2
import TestSupport
@testable import SegmentWriterService
import Testing
import Yams

@Suite struct ConfigLoaderTests {
    private func load(_ args: [String], yaml: String? = nil, env: [String: String] = [:]) throws -> ConfigLoader.Result {
        try ConfigLoader.load(arguments: args, environment: env) { path in
            guard let yaml, path == "cfg.yaml" else { throw MissingFile.missing }
            return yaml
        }
    }

    enum MissingFile: Error { case missing }

    @Test func defaultsArePyroscopes() throws {
        let c = try load([]).config
        #expect(c.server.grpcListenPort == 9095)
        #expect(c.server.httpListenPort == 4040)
        #expect(c.server.grpcMaxRecvMsgSizeBytes == 104_857_600)
        #expect(c.segmentWriter.segmentDurationNs == 500_000_000)
        #expect(c.segmentWriter.uploadTimeoutNs == 2_000_000_000)
        #expect(c.segmentWriter.uploadMaxRetries == 3)
        #expect(c.segmentWriter.uploadHedgeAfterNs == 500_000_000)
        #expect(c.segmentWriter.uploadHedgeRateMax == 2)
        #expect(c.segmentWriter.uploadHedgeRateBurst == 10)
        #expect(c.segmentWriter.metadataDLQEnabled)
        #expect(c.storage.backend == .filesystem)
        #expect(c.storage.filesystemDir == "./data")
        #expect(c.limits.maxProfileSizeBytes == 4_194_304)
        #expect(c.shutdownDelayNs == 0)
    }

    /// Ours: io_uring on, metastore connects abandoned after 1 s (dskit's default is 5 s, longer
    /// than AddBlock's 2 s deadline); both settable by flag and by YAML key.
    @Test func ioUringAndMetastoreConnectTimeoutSettings() throws {
        let defaults = try load([]).config
        #expect(defaults.segmentWriter.ioUringEnabled)
        #expect(defaults.metastore.connectTimeoutNs == 1_000_000_000)
        let flags = try load(["-segment-writer.io-uring-enabled=false", "-metastore.grpc-client-config.connect-timeout=250ms"])
        #expect(!flags.config.segmentWriter.ioUringEnabled)
        #expect(flags.config.metastore.connectTimeoutNs == 250_000_000)
        let yaml = """
        segment_writer:
          io_uring_enabled: false
        metastore:
          grpc_client_config:
            connect_timeout: 3s
        """
        let fromYAML = try load(["-config.file=cfg.yaml"], yaml: yaml)
        #expect(!fromYAML.config.segmentWriter.ioUringEnabled)
        #expect(fromYAML.config.metastore.connectTimeoutNs == 3_000_000_000)
        #expect(fromYAML.ignored.isEmpty)
    }

    @Test func goFlagSyntaxIsAccepted() throws {
        let c = try load([
            "-server.grpc-listen-port=19095", "--server.http-listen-port", "14040",
            "-segment-writer.segment-duration=1m30s", "-segment-writer.metadata-dlq-enabled=false",
            "-segment-writer.bucket-health-check-enabled", "-storage.backend=s3",
            "-storage.s3.endpoint=127.0.0.1:9000", "-storage.s3.bucket-name", "b", "-shutdown-delay=2s",
        ], env: ["AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"]).config
        #expect(c.server.grpcListenPort == 19095)
        #expect(c.server.httpListenPort == 14040)
        #expect(c.segmentWriter.segmentDurationNs == 90_000_000_000)
        #expect(!c.segmentWriter.metadataDLQEnabled)
        #expect(c.segmentWriter.bucketHealthCheckEnabled)
        #expect(c.storage.backend == .s3)
        #expect(c.storage.s3.endpoint == "127.0.0.1:9000")
        #expect(c.storage.s3.bucketName == "b")
        #expect(c.shutdownDelayNs == 2_000_000_000)
    }

    @Test func yamlUsesPyroscopeKeysAndFlagsWin() throws {
        let yaml = """
        shutdown_delay: 1m30s
        server:
          grpc_listen_port: 9999
          http_server_read_header_timeout: 30s
          grpc_server_max_send_msg_size: 1000
        segment_writer:
          segment_duration: 250ms
          upload-timeout: 3s
          upload-retry_max_retries: 5
          lifecycler:
            num_tokens: 4
            final_sleep: 0s
        storage:
          backend: filesystem
          filesystem:
            dir: ${DATA_DIR:/tmp/fallback}
        distributor:
          pushtimeout: 5s
        """
        let r = try load(["-config.file=cfg.yaml", "-config.expand-env=true", "-server.grpc-listen-port=7777"],
                         yaml: yaml, env: ["DATA_DIR": "/srv/bucket"])
        #expect(r.config.server.grpcListenPort == 7777)
        #expect(r.config.segmentWriter.segmentDurationNs == 250_000_000)
        #expect(r.config.segmentWriter.uploadTimeoutNs == 3_000_000_000)
        #expect(r.config.segmentWriter.uploadMaxRetries == 5)
        #expect(r.config.storage.filesystemDir == "/srv/bucket")
        #expect(r.config.shutdownDelayNs == 90_000_000_000)
        #expect(!r.ignored.contains("shutdown_delay"))
        // Keys of our sections that we do not implement are reported; other components' sections are not.
        #expect(r.ignored.contains("server.grpc_server_max_send_msg_size"))
        #expect(r.config.server.httpReadHeaderTimeoutNs == 30_000_000_000 && !r.ignored.contains("server.http_server_read_header_timeout"))
        #expect(r.ignored.contains("segment_writer.lifecycler.final_sleep"))
        #expect(!r.ignored.contains("segment_writer.lifecycler.num_tokens"))
        #expect(!r.ignored.contains { $0.hasPrefix("distributor") })
    }

    /// Every duration is a period or a timeout: a negative one fails start-up and says so; 0 is
    /// taken (its meaning is upstream's, as each setting's help says).
    @Test func negativeDurationsAreRefusedAndZeroIsTaken() throws {
        #expect(throws: ConfigError.invalid("invalid value \"-1s\" for flag -segment-writer.upload-timeout: a duration must not be negative")) {
            try load(["-segment-writer.upload-timeout=-1s"])
        }
        let yaml = "segment_writer:\n  metadata_update_timeout: -2ms\n"
        #expect(throws: ConfigError.invalid("invalid value \"-2ms\" for segment_writer.metadata_update_timeout in -config.file: a duration must not be negative")) {
            try load(["-config.file=cfg.yaml"], yaml: yaml)
        }
        let zero = try load(["-segment-writer.upload-timeout=0", "-segment-writer.metadata-update-timeout=0s", "-segment-writer.upload-hedge-after=0"]).config
        #expect(zero.segmentWriter.uploadTimeoutNs == 0 && zero.segmentWriter.metadataUpdateTimeoutNs == 0 && zero.segmentWriter.uploadHedgeAfterNs == 0)
    }

    /// dskit's metastore `connect-timeout`: 0 is grpc-go's default (20 s), not a 1 ms connect.
    @Test func zeroMetastoreConnectTimeoutIsGRPCDefault() throws {
        let zero = try load(["-metastore.grpc-client-config.connect-timeout=0"]).config
        #expect(SegmentUploader.metastoreConnectTimeoutNs(zero.metastore.connectTimeoutNs) == 20_000_000_000)
        let set = try load(["-metastore.grpc-client-config.connect-timeout=250ms"]).config
        #expect(SegmentUploader.metastoreConnectTimeoutNs(set.metastore.connectTimeoutNs) == 250_000_000)
        #expect(SegmentUploader.metastoreConnectTimeoutNs(1) == 1_000_000)
    }

    /// Ours: the distinct shards a writer holds, 4096 unless set, between 1 and 65536.
    @Test func maxShardsIsBounded() throws {
        #expect(try load([]).config.segmentWriter.shardsMax == 4096)
        #expect(try load(["-config.file=cfg.yaml"], yaml: "segment_writer:\n  max_shards: 64\n").config.segmentWriter.shardsMax == 64)
        for value in ["0", "65537"] {
            #expect(throws: ConfigError.invalid("-segment-writer.max-shards must be between 1 and 65536")) {
                try load(["-segment-writer.max-shards=\(value)"])
            }
        }
    }

    /// Upstream's "0 to disable": a shared Pyroscope configuration with it starts; the writer
    /// then bounds profiles by the largest gRPC message it accepts, and sizes its arenas so.
    @Test func zeroMaxProfileSizeIsTheGRPCMessageCeiling() throws {
        let zero = try load(["-config.file=cfg.yaml"], yaml: "limits:\n  max_profile_size_bytes: 0\n").config
        #expect(zero.limits.maxProfileSizeBytes == 0 && zero.profileBytesMax == 104_857_600)
        #expect(zero.accumulatorLimits.profileBytesMax == 104_857_600)
        #expect(zero.accumulatorLimits.accumulatedBytesMax == 64 * 104_857_600)
        let smaller = try load(["-validation.max-profile-size-bytes=0", "-server.grpc-max-recv-msg-size-bytes=8388608"]).config
        #expect(smaller.profileBytesMax == 8_388_608)
        #expect(try load([]).config.accumulatorLimits.profileBytesMax == 4_194_304)
        #expect(throws: ConfigError.invalid("-validation.max-profile-size-bytes must not be negative")) {
            try load(["-validation.max-profile-size-bytes=-1"])
        }
        // Bounds that keep the arena sizes (64 profiles, 4 segments) from overflowing.
        let huge = try load(["-validation.max-profile-size-bytes=0", "-server.grpc-max-recv-msg-size-bytes=4294967295"]).config
        #expect(huge.profileBytesMax == 256 << 20 && huge.accumulatorLimits.accumulatedBytesMax == 16 << 30)
        #expect(throws: ConfigError.invalid("-validation.max-profile-size-bytes must be at most 268435456 (256 MiB)")) {
            try load(["-validation.max-profile-size-bytes=\(1 << 58)"])
        }
        #expect(throws: ConfigError.invalid("-server.grpc-max-recv-msg-size-bytes must be between 1 and 4294967295")) {
            try load(["-server.grpc-max-recv-msg-size-bytes=\(1 << 60)"])
        }
        #expect(throws: ConfigError.invalid("-segment-writer.segment-max-bytes must be at most 4294967296 (4 GiB)")) {
            try load(["-segment-writer.segment-max-bytes=\(1 << 62)", "-segment-writer.memory-budget-bytes=\(Int.max)"])
        }
    }

    @Test func unknownAndInvalidValuesNameTheSetting() throws {
        #expect(throws: ConfigError.invalid("flag provided but not defined: -segment-writer.segment-durration")) {
            try load(["-segment-writer.segment-durration=1s"])
        }
        #expect(throws: ConfigError.invalid("invalid value \"soon\" for flag -segment-writer.upload-timeout: expected a duration such as 500ms or 2s")) {
            try load(["-segment-writer.upload-timeout=soon"])
        }
        #expect(throws: ConfigError.invalid("invalid value \"yes\" for flag -segment-writer.metadata-dlq-enabled: expected true or false")) {
            try load(["-segment-writer.metadata-dlq-enabled=yes"])
        }
        #expect(throws: ConfigError.invalid("invalid value \"abc\" for segment_writer.upload-retry_max_retries in -config.file: expected an integer")) {
            try load(["-config.file=cfg.yaml"], yaml: "segment_writer:\n  upload-retry_max_retries: abc\n")
        }
        #expect(throws: ConfigError.invalid("invalid value \"gcs\" for flag -storage.backend: expected filesystem or s3")) {
            try load(["-storage.backend=gcs"])
        }
        #expect(throws: ConfigError.invalid("-storage.s3.endpoint is required with -storage.backend=s3")) {
            try load(["-storage.backend=s3"])
        }
        #expect(throws: ConfigError.invalid("flag needs an argument: -server.grpc-listen-port")) {
            try load(["-server.grpc-listen-port"])
        }
        #expect(throws: ConfigError.self) { try load(["-server.grpc-listen-port=70000"]) }
        #expect(throws: ConfigError.self) { try load(["stray"]) }
        #expect(throws: ConfigError.self) { try load(["-config.file=cfg.yaml"], yaml: "server: [1, 2\n") }
    }

    /// Upstream's lookup types are `auto`, `path-style` and `virtual-hosted-style`;
    /// `force-path-style` (deprecated there) forces path-style and conflicts with the last.
    @Test func bucketLookupTypesAreUpstreamsAndForcePathStyleIsHonoured() throws {
        let s3 = ["-storage.backend=s3", "-storage.s3.endpoint=s3.eu-west-1.amazonaws.com", "-storage.s3.bucket-name=b",
                  "-storage.s3.access-key-id=a", "-storage.s3.secret-access-key=s"]
        #expect(try load(s3 + ["-storage.s3.bucket-lookup-type=path-style"]).config.storage.s3.bucketLookupType == .pathStyle)
        let yaml = "storage:\n  s3:\n    bucket_lookup_type: virtual-hosted-style\n"
        #expect(try load(s3 + ["-config.file=cfg.yaml"], yaml: yaml).config.storage.s3.bucketLookupType == .virtualHostedStyle)
        #expect(throws: ConfigError.invalid("invalid value \"path\" for flag -storage.s3.bucket-lookup-type: expected auto, virtual-hosted-style, path-style")) {
            try load(s3 + ["-storage.s3.bucket-lookup-type=path"])
        }
        let forced = try load(s3 + ["-storage.s3.force-path-style=true"])
        #expect(forced.config.storage.s3.forcePathStyle && forced.config.storageConfiguration.s3?.bucketLookup == .pathStyle)
        #expect(try load(s3).config.storageConfiguration.s3?.bucketLookup == .auto)
        #expect(throws: ConfigError.invalid("cannot use s3.force-path-style = true and s3.bucket-lookup-type = virtual-hosted-style at the same time")) {
            try load(s3 + ["-storage.s3.force-path-style=true", "-storage.s3.bucket-lookup-type=virtual-hosted-style"])
        }
    }

    /// These reach S3's Host and Authorization headers, where a CR or LF would trap the
    /// request writer's invariant; a secret made `--from-file` keeps its trailing newline.
    @Test func s3HeaderValuesWithControlCharactersAreRefusedAtStartUp() throws {
        let s3 = ["-storage.backend=s3", "-storage.s3.endpoint=minio:9000", "-storage.s3.bucket-name=b", "-storage.s3.secret-access-key=s",
                  "-storage.s3.access-key-id=AKIA123"]
        for flag in ["-storage.s3.access-key-id", "-storage.s3.region", "-storage.s3.endpoint", "-storage.s3.bucket-name",
                     "-storage.s3.sse.kms-key-id"] {
            for bad in ["AKIA123\n", "AKIA\r\n123", "AKIA\t123", "AKIA\u{7F}"] {
                #expect(throws: ConfigError.invalid("\(flag) contains a control character such as a newline (a value read from a file keeps its trailing newline)")) {
                    try load(s3 + ["\(flag)=\(bad)"])
                }
            }
        }
        let yaml = "storage:\n  backend: s3\n  s3:\n    endpoint: minio:9000\n    bucket_name: b\n    access_key_id: a\n    secret_access_key: s\n    region: \"eu-west-1\\n\"\n"
        #expect(throws: ConfigError.self) { try load(["-config.file=cfg.yaml"], yaml: yaml) }
        let fine = try load(s3 + ["-storage.s3.access-key-id=AKIA123", "-storage.s3.region=eu-west-1"]).config
        #expect(fine.storage.s3.accessKeyID == "AKIA123" && fine.storage.s3.region == "eu-west-1")
        // Unused with the filesystem backend: not checked.
        #expect(try load(["-storage.s3.region=eu\n"]).config.storage.s3.region == "eu\n")
    }

    @Test func listenAddressesAreIPLiteralsLocalhostOrEveryInterface() throws {
        #expect(try load([]).config.server.grpcListenAddress == "")
        for address in ["", "localhost", "127.0.0.1", "0.0.0.0", "::", "::1", "[::1]"] {
            #expect(throws: Never.self) { try load(["-server.grpc-listen-address=\(address)", "-server.http-listen-address=\(address)"]) }
        }
        #expect(throws: ConfigError.invalid("-server.grpc-listen-address: \"writer-0\" is not an IP address, localhost or empty (every interface)")) {
            try load(["-server.grpc-listen-address=writer-0"])
        }
        #expect(throws: ConfigError.invalid("-server.http-listen-address: \"[::1\" is not an IP address, localhost or empty (every interface)")) {
            try load(["-server.http-listen-address=[::1"])
        }
        // Forms getaddrinfo reads as numeric but the listener (inet_pton) does not.
        for address in ["127.1", "fe80::1%lo"] {
            #expect(throws: ConfigError.invalid("-server.grpc-listen-address: \"\(address)\" is not an IP address, localhost or empty (every interface)")) {
                try load(["-server.grpc-listen-address=\(address)"])
            }
        }
    }

    @Test func listenHostAndTheLoggedAddress() {
        #expect(SegmentWriterServer.listenHost("") == "")
        #expect(SegmentWriterServer.listenHost("0.0.0.0") == "")
        #expect(SegmentWriterServer.listenHost("localhost") == "127.0.0.1")
        #expect(SegmentWriterServer.listenHost("[::1]") == "::1")
        #expect(SegmentWriterServer.listenDescription("", port: 9095) == "[::]:9095")
        #expect(SegmentWriterServer.listenDescription("::1", port: 9095) == "[::1]:9095")
        #expect(SegmentWriterServer.listenDescription("127.0.0.1", port: 9095) == "127.0.0.1:9095")
    }

    @Test func ringSettingsByFlagAndYAML() throws {
        let defaults = try load([]).config
        #expect(defaults.ring == SegmentWriterConfig.Ring())
        #expect(defaults.ring.store == "memberlist" && defaults.ring.prefix == "collectors/")
        #expect(defaults.ring.heartbeatPeriodNs == 5_000_000_000 && defaults.ring.numTokens == 4)
        #expect(defaults.ring.minReadyDurationNs == 30_000_000_000, "Pyroscope's override of dskit's 15 s")
        #expect(defaults.ring.readinessCheckRingHealth && defaults.ring.heartbeatTimeoutNs == 60_000_000_000)
        #expect(defaults.memberlist.join.isEmpty)
        let flags = try load(["-memberlist.join=dns+pyroscope-memberlist:7946", "-memberlist.join", "10.0.0.7:7946",
                              "-segment-writer.num-tokens=8", "-segment-writer.lifecycler.ID=writer-3",
                              "-segment-writer.lifecycler.addr=10.0.0.9", "-segment-writer.lifecycler.port=9000",
                              "-segment-writer.heartbeat-period=2s", "-segment-writer.unregister-on-shutdown",
                              "-memberlist.cluster-label=prod", "-target=segment-writer",
                              "-segment-writer.min-ready-duration=5s", "-segment-writer.readiness-check-ring-health=false",
                              "-segment-writer.ring.heartbeat-timeout=20s"])
        #expect(flags.config.memberlist.join == ["dns+pyroscope-memberlist:7946", "10.0.0.7:7946"])
        #expect(flags.config.memberlist.clusterLabel == "prod")
        #expect(flags.config.ring.numTokens == 8 && flags.config.ring.instanceID == "writer-3")
        #expect(flags.config.ring.instanceAddr == "10.0.0.9" && flags.config.ring.instancePort == 9000)
        #expect(flags.config.ring.heartbeatPeriodNs == 2_000_000_000 && flags.config.ring.unregisterOnShutdown)
        #expect(flags.config.ring.minReadyDurationNs == 5_000_000_000)
        #expect(!flags.config.ring.readinessCheckRingHealth && flags.config.ring.heartbeatTimeoutNs == 20_000_000_000)
        #expect(flags.ignored.isEmpty)
        let yaml = """
        memberlist:
          join_members: [dns+pyroscope-memberlist.pyroscope.svc.cluster.local.:7946]
          cluster_label: eu
          bind_port: 7946
        segment_writer:
          lifecycler:
            id: writer-0
            num_tokens: 4
            min_ready_duration: 1m
            readiness_check_ring_health: false
            ring:
              heartbeat_timeout: 2m
              kvstore:
                store: memberlist
                prefix: ring/
        """
        let fromYAML = try load(["-config.file=cfg.yaml", "-memberlist.join=10.0.0.8"], yaml: yaml)
        #expect(fromYAML.config.memberlist.join == ["dns+pyroscope-memberlist.pyroscope.svc.cluster.local.:7946", "10.0.0.8"])
        #expect(fromYAML.config.memberlist.clusterLabel == "eu")
        #expect(fromYAML.config.ring.instanceID == "writer-0" && fromYAML.config.ring.prefix == "ring/")
        #expect(fromYAML.config.ring.minReadyDurationNs == 60_000_000_000)
        #expect(!fromYAML.config.ring.readinessCheckRingHealth && fromYAML.config.ring.heartbeatTimeoutNs == 120_000_000_000)
        #expect(fromYAML.ignored == ["memberlist.bind_port"])
    }

    @Test func ringSettingsThisWriterCannotHonourAreRefused() throws {
        let refused = [
            ("-segment-writer.store=consul", "-segment-writer.store"),
            ("-memberlist.join=dnssrv+_memberlist._tcp.ring", "-memberlist.join"),
            ("-memberlist.join=ring:0", "-memberlist.join"),
            ("-segment-writer.num-tokens=0", "-segment-writer.num-tokens"),
            ("-segment-writer.heartbeat-period=0s", "-segment-writer.heartbeat-period"),
            ("-segment-writer.lifecycler.port=70000", "-segment-writer.lifecycler.port"),
            ("-memberlist.tls-enabled=true", "-memberlist.tls-enabled"),
        ]
        for (flag, named) in refused {
            #expect { try load([flag]) } throws: { "\($0)".contains(named) }
        }
    }

    @Test func otherPyroscopeRingFlagsAreAcceptedAndReported() throws {
        let r = try load(["-segment-writer.heartbeat-timeout=1m", "-memberlist.bind-port=7946", "-segment-writer.lifecycler.interface=eth0",
                          "-segment-writer.lifecycler.interface=eth1"])
        #expect(r.ignored == ["-segment-writer.heartbeat-timeout", "-memberlist.bind-port"])
        #expect(r.config.ring.interfaceNames == ["eth0", "eth1"])
    }

    /// Upstream's S3 transport flags, registered without `.http.` (their YAML keys are under
    /// `storage.s3.http`): accepted without effect and reported, as the `.http.` ones are.
    @Test func upstreamS3TransportFlagsAreAcceptedAndReported() throws {
        let flags = ["-storage.s3.tls-handshake-timeout=10s", "-storage.s3.expect-continue-timeout=1s",
                     "-storage.s3.max-idle-connections=0", "-storage.s3.max-idle-connections-per-host=100",
                     "-storage.s3.max-connections-per-host=0", "-storage.s3.http.idle-conn-timeout=90s"]
        #expect(try load(flags).ignored == flags.map { String($0.prefix { $0 != "=" }) })
        let yaml = "storage:\n  s3:\n    http:\n      tls_handshake_timeout: 10s\n      max_connections_per_host: 0\n"
        #expect(try load(["-config.file=cfg.yaml"], yaml: yaml).ignored.sorted()
                == ["storage.s3.http.max_connections_per_host", "storage.s3.http.tls_handshake_timeout"])
    }

    @Test func helpListsEverySettingWithItsDefault() {
        #expect(throws: ConfigError.self) { try load(["-help"]) }
        let usage = ConfigLoader.usage()
        for s in Setting.all { #expect(usage.contains("-\(s.flag)")) }
        #expect(usage.contains("(default 500ms; YAML segment_writer.segment_duration)"))
    }

    @Test func goDurations() {
        #expect(GoDuration.parseNanoseconds("500ms") == 500_000_000)
        #expect(GoDuration.parseNanoseconds("1h2m3s") == 3_723_000_000_000)
        #expect(GoDuration.parseNanoseconds("1.5s") == 1_500_000_000)
        #expect(GoDuration.parseNanoseconds("0") == 0)
        #expect(GoDuration.parseNanoseconds("10") == nil)
        #expect(GoDuration.parseNanoseconds("") == nil)
        #expect(GoDuration.parseNanoseconds("5 s") == nil)
        #expect(GoDuration.format(nanoseconds: 500_000_000) == "500ms")
        #expect(GoDuration.format(nanoseconds: 120_000_000_000) == "2m")
        // dskit's "infinity" (Go's largest duration) is one past Int64.max as a Double.
        #expect(GoDuration.parseNanoseconds("2562047h47m16.854775807s") == Int64.max)
        #expect(GoDuration.parseNanoseconds("2562048h") == nil)
        #expect(GoDuration.format(nanoseconds: Int64.max) == "2562047h47m16.854775807s")
    }

    @Test func connectionTimeoutsByFlagAndYAMLWithDskitsDefaults() throws {
        let d = try load([]).config.server
        #expect(d.grpcKeepaliveMaxConnectionIdleNs == Int64.max && d.grpcKeepaliveMaxConnectionAgeNs == Int64.max)
        #expect(d.grpcKeepaliveTimeNs == 7_200_000_000_000 && d.grpcKeepaliveTimeoutNs == 20_000_000_000)
        #expect(d.httpReadTimeoutNs == 30_000_000_000 && d.httpIdleTimeoutNs == 120_000_000_000)
        #expect(d.httpReadHeaderTimeoutNs == 0)
        #expect(GRPCConnectionLimits(d) == GRPCConnectionLimits())

        let yaml = """
        server:
          grpc_server_max_connection_idle: 5m
          grpc_server_max_connection_age: 2562047h47m16.854775807s
          grpc_server_keepalive_time: 0s
          http_server_idle_timeout: 0s
          http_server_read_header_timeout: 2s
        """
        let r = try load(["-config.file=cfg.yaml", "-server.grpc.keepalive.max-connection-age-grace=30s",
                          "-server.grpc.keepalive.min-time-between-pings=10s", "-server.http-read-timeout=5s"], yaml: yaml)
        let limits = GRPCConnectionLimits(r.config.server)
        #expect(limits.maxIdleNs == 300_000_000_000)
        #expect(limits.maxAgeNs == .max)
        #expect(limits.maxAgeGraceNs == 30_000_000_000)
        #expect(limits.keepaliveTimeNs == 7_200_000_000_000, "0 is grpc-go's default, 2h")
        #expect(r.ignored.isEmpty)
        #expect(HTTP2PingPolicy(r.config.server) == HTTP2PingPolicy(minIntervalNs: 10_000_000_000, permitWithoutStream: false))
        #expect(HTTP2PingPolicy(d) == HTTP2PingPolicy(minIntervalNs: 1_000_000_000, permitWithoutStream: false), "Pyroscope's 1s")
        #expect(d.grpcConnLimit == 0 && SegmentWriterServer.connectionLimit(d.grpcConnLimit) == nil)
        let limited = try load(["-server.grpc-conn-limit=64", "-server.http-conn-limit=-1"]).config.server
        #expect(SegmentWriterServer.connectionLimit(limited.grpcConnLimit)?.maximum == 64)
        #expect(SegmentWriterServer.connectionLimit(limited.httpConnLimit) == nil)
        let server = r.config.server
        let http = OperationsHTTPHandler.Timeouts(readHeaderNs: server.httpReadHeaderTimeoutNs, readNs: server.httpReadTimeoutNs,
                                                  idleNs: server.httpIdleTimeoutNs, writeNs: server.httpWriteTimeoutNs)
        #expect(http.readNs == 5_000_000_000 && http.idleNs == 5_000_000_000, "an idle timeout of 0 takes the read timeout, as Go's")
        #expect(http.readHeaderNs == 2_000_000_000)
        #expect(http.writeNs == 30_000_000_000)
        let defaults = OperationsHTTPHandler.Timeouts(readHeaderNs: d.httpReadHeaderTimeoutNs, readNs: d.httpReadTimeoutNs,
                                                      idleNs: d.httpIdleTimeoutNs, writeNs: d.httpWriteTimeoutNs)
        #expect(defaults.readHeaderNs == 30_000_000_000, "a read-header timeout of 0 takes the read timeout, as Go's")
        #expect(OperationsHTTPHandler.Timeouts(readHeaderNs: -1, readNs: 5, idleNs: 0, writeNs: 0).readHeaderNs == 0,
                "a negative one is none, as Go's")
    }
}

@Suite struct DeployConfigTests {
    @Test func shippedConfigurationLoads() throws {
        let url = TestData.repositoryRoot.appendingPathComponent("Deploy/segment-writer.yaml")
        let env = ["S3_ACCESS_KEY_ID": "key", "S3_SECRET_ACCESS_KEY": "secret"]
        let result = try ConfigLoader.load(arguments: ["-config.file=\(url.path)", "-config.expand-env=true"],
                                           environment: env) { try String(contentsOfFile: $0, encoding: .utf8) }
        #expect(result.ignored.isEmpty)
        #expect(result.config.storage.backend == .s3)
        #expect(result.config.storage.s3.endpoint == "127.0.0.1:9000")
        #expect(result.config.storage.s3.accessKeyID == "key")
        #expect(result.config.storage.s3.bucketLookupType == .pathStyle)
        #expect(result.config.metastore.address == "")
        #expect(result.config.segmentWriter.segmentDurationNs == 500_000_000)
    }
}

/// Deploy/kubernetes.yaml's container, as the kubelet would start it: its `args` with the
/// `$(VAR)` references expanded from the pod's environment, and the ConfigMap holding
/// Deploy/segment-writer.yaml at the mounted path.
@Suite struct KubernetesManifestTests {
    @Test func containerArgumentsAreValidFlags() throws {
        let root = TestData.repositoryRoot
        let manifest = try String(contentsOf: root.appendingPathComponent("Deploy/kubernetes.yaml"), encoding: .utf8)
        let statefulSet = try #require(try Yams.load_all(yaml: manifest).compactMap { $0 as? [String: Any] }
            .first { $0["kind"] as? String == "StatefulSet" })
        let spec = try #require((statefulSet["spec"] as? [String: Any])?["template"] as? [String: Any])
        let containers = try #require((spec["spec"] as? [String: Any])?["containers"] as? [[String: Any]])
        let args = try #require(containers.first?["args"] as? [String])
        let pod = ["POD_NAME": "swift-segment-writer-1", "POD_IP": "10.42.0.17", "NAMESPACE": "pyroscope"]
        let expanded = args.map { arg in pod.reduce(arg) { $0.replacingOccurrences(of: "$(\($1.key))", with: $1.value) } }
        #expect(!expanded.contains { $0.contains("$(") }, "every $(VAR) is one the pod defines")

        let mounted = "/etc/segment-writer/segment-writer.yaml"
        let env = ["S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY_ID": "key", "S3_SECRET_ACCESS_KEY": "secret"]
        let result = try ConfigLoader.load(arguments: expanded, environment: env) { path in
            #expect(path == mounted)
            return try String(contentsOf: root.appendingPathComponent("Deploy/segment-writer.yaml"), encoding: .utf8)
        }
        #expect(result.ignored.isEmpty)
        #expect(result.config.memberlist.join == ["dns+pyroscope-memberlist.pyroscope.svc.cluster.local.:7946"])
        #expect(result.config.ring.instanceID == "swift-segment-writer-1")
        #expect(result.config.ring.instanceAddr == "10.42.0.17")
        #expect(result.config.metastore.address == "dns:///pyroscope-metastore-headless.pyroscope.svc.cluster.local.:9095")
        #expect(result.config.storage.s3.endpoint == "minio:9000")
        // Pushes are still taken for the delay, or the ring grace when longer (the writer is in a
        // ring here), then the drain runs.
        let grace = try #require((spec["spec"] as? [String: Any])?["terminationGracePeriodSeconds"] as? Int)
        let serving = max(result.config.shutdownDelayNs, result.config.ring.minReadyDurationNs)
        #expect(Int64(grace) * 1_000_000_000 > serving + result.config.server.gracefulShutdownTimeoutNs,
                "the grace period covers the shutdown delay or ring grace, and the drain")
    }
}
