import ObjectStorage

/// Everything the segment-writer process can be configured with. Defaults are Pyroscope's
/// (`pkg/segmentwriter/service.go`, dskit server, objstore client) unless marked "ours".
public struct SegmentWriterConfig: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var grpcListenAddress = ""
        public var grpcListenPort = 9095
        public var httpListenAddress = ""
        public var httpListenPort = 4040
        public var grpcMaxRecvMsgSizeBytes = 104_857_600
        public var grpcMaxConcurrentStreams = 100
        public var gracefulShutdownTimeoutNs: Int64 = 30_000_000_000
        /// Ours: grpc-go's `ConnectionTimeout` (the HTTP/2 handshake's), which dskit does not expose.
        public var grpcConnectionTimeoutNs: Int64 = 120_000_000_000
        /// `Int64.max` (Go's largest duration) is dskit's "infinity"; 0 means the same.
        public var grpcKeepaliveMaxConnectionIdleNs = Int64.max
        public var grpcKeepaliveMaxConnectionAgeNs = Int64.max
        public var grpcKeepaliveMaxConnectionAgeGraceNs = Int64.max
        public var grpcKeepaliveTimeNs: Int64 = 7_200_000_000_000
        public var grpcKeepaliveTimeoutNs: Int64 = 20_000_000_000
        /// Pyroscope's override of dskit's 5 m (`pkg/pyroscope/pyroscope.go`).
        public var grpcKeepaliveMinTimeBetweenPingsNs: Int64 = 1_000_000_000
        public var grpcKeepalivePingWithoutStreamAllowed = false
        /// Open connections per port, across the loops (0: only the loops' 4096 slots each).
        public var grpcConnLimit = 0
        public var httpConnLimit = 0
        /// Go's `http.Server` ReadHeaderTimeout, ReadTimeout, IdleTimeout and WriteTimeout (0:
        /// none; read-header and idle 0 take the read timeout).
        public var httpReadHeaderTimeoutNs: Int64 = 0
        public var httpReadTimeoutNs: Int64 = 30_000_000_000
        public var httpIdleTimeoutNs: Int64 = 120_000_000_000
        public var httpWriteTimeoutNs: Int64 = 30_000_000_000
    }

    public struct SegmentWriter: Sendable, Equatable {
        public var segmentDurationNs: Int64 = 500_000_000
        public var uploadTimeoutNs: Int64 = 2_000_000_000
        public var uploadMaxRetries = 3
        public var uploadRetryMinPeriodNs: Int64 = 50_000_000
        public var uploadRetryMaxPeriodNs: Int64 = 500_000_000
        public var uploadHedgeAfterNs: Int64 = 500_000_000
        public var uploadHedgeRateMax: Double = 2
        public var uploadHedgeRateBurst = 10
        public var metadataDLQEnabled = true
        public var metadataUpdateTimeoutNs: Int64 = 2_000_000_000
        public var bucketHealthCheckEnabled = true
        public var bucketHealthCheckTimeoutNs: Int64 = 10_000_000_000
        /// Ours: uploads through io_uring. Off (or refused by a seccomp profile), the loops' stores
        /// use blocking POSIX calls.
        public var ioUringEnabled = true
        /// Ours: event loops (one pinned thread each); 0 = one per CPU.
        public var eventLoops = 0
        /// Ours: a shard flushes early once its accumulated bytes cross this bound.
        public var segmentMaxBytes = 64 << 20
        /// Ours: accumulators plus in-flight uploads; past it Pushes get RESOURCE_EXHAUSTED.
        public var memoryBudgetBytes = 2 << 30
        /// Ours: distinct shard values this writer holds (each a ticker, arenas and metric series,
        /// never removed); a Push for another one gets RESOURCE_EXHAUSTED. Upstream has no bound:
        /// its distributors address 4 shards per writer (`num_tokens`), and 4096 is the whole ring
        /// of 1024 writers, the most their shard table held until recently.
        public var shardsMax = 4096
    }

    public struct Storage: Sendable, Equatable {
        public enum Backend: String, Sendable, CaseIterable { case filesystem, s3 }
        public var backend: Backend = .filesystem
        public var prefix = ""
        /// Ours: `./data` (the embedded default) rather than Pyroscope's per-target default.
        public var filesystemDir = "./data"
        public var s3 = S3()
    }

    public struct S3: Sendable, Equatable {
        /// Upstream's spellings (`pkg/objstore/providers/s3/config.go`).
        public enum BucketLookup: String, Sendable, CaseIterable { case auto, virtualHostedStyle = "virtual-hosted-style", pathStyle = "path-style" }
        public var endpoint = ""
        public var bucketName = ""
        public var region = ""
        /// Empty (with `secretAccessKey`): the credential chain's, filled in by `ConfigLoader`.
        public var accessKeyID = ""
        public var secretAccessKey = ""
        /// Ours, no setting: the session token of temporary credentials the chain found.
        public var sessionToken = ""
        /// Ours: where the credentials came from (`configuration`, `environment`, the shared
        /// credentials file, or an IAM source's name), for the start-up log.
        public var credentialsSource = "configuration"
        /// Ours: the IAM source the chain chose when nothing else had credentials; the server
        /// fetches from it at start-up and refreshes them. `credentialsLooked`: what the
        /// sources before it gave, for the error when it fails too.
        public var iamSource: AWSIAMSource?
        public var credentialsLooked: [String] = []
        /// `-storage.s3.native-aws-auth-enabled`: upstream then takes credentials from the AWS
        /// SDK's default chain; here from the sources of that chain this writer has, the same
        /// as with an empty access key (environment, shared credentials file, IAM).
        public var nativeAWSAuthEnabled = false
        public var insecure = false
        public var bucketLookupType: BucketLookup = .auto
        /// `-storage.s3.force-path-style` (deprecated upstream for the lookup type): path-style.
        public var forcePathStyle = false
        public var insecureSkipVerify = false
        /// `-storage.s3.sse.type`: empty, `SSE-S3` or `SSE-KMS` (checked by `ConfigLoader`).
        public var sseType = ""
        public var sseKMSKeyID = ""
        /// A JSON object of strings.
        public var sseKMSEncryptionContext = ""
    }

    public struct Metastore: Sendable, Equatable {
        /// Ours: empty by default, which writes every segment's metadata to the DLQ path
        /// (recovered by a Pyroscope metastore) instead of Pyroscope's `localhost:9095`.
        public var address = ""
        /// `-metastore.grpc-client-config.connect-timeout`: a connect with no answer within it is
        /// abandoned and AddBlock moves on to the next node. Ours: 1 s, not dskit's 5 s, because
        /// AddBlock's whole deadline (`metadata_update_timeout`) is 2 s; upstream sets 1 s for
        /// the distributors' connects to segment writers for the same reason.
        public var connectTimeoutNs: Int64 = 1_000_000_000
        /// `-metastore.grpc-client-config.tls-*` (dskit's `grpcclient.Config` and `tls.ClientConfig`):
        /// the others count only with `tlsEnabled`, as in dskit; checked by `tlsOptions()`.
        public var tlsEnabled = false
        /// Client certificate and its key (mTLS); both or neither.
        public var tlsCertPath = ""
        public var tlsKeyPath = ""
        /// Empty: the system's CAs.
        public var tlsCAPath = ""
        /// Empty: the host of each `-metastore.address` entry.
        public var tlsServerName = ""
        public var tlsInsecureSkipVerify = false
        /// Comma-separated Go (IANA) names; empty: OpenSSL's defaults.
        public var tlsCipherSuites = ""
        /// `VersionTLS12` or `VersionTLS13`; empty: TLS 1.2.
        public var tlsMinVersion = ""
    }

    /// The segment-writer ring entry (dskit lifecycler flags under `-segment-writer.`,
    /// ingest-and-ops.md §3.7).
    public struct Ring: Sendable, Equatable {
        /// `-segment-writer.store`. Ours: memberlist, which Pyroscope's own configuration sets
        /// unless told otherwise (the dskit flag default says consul); the only store supported.
        public var store = "memberlist"
        public var prefix = "collectors/"
        public var heartbeatPeriodNs: Int64 = 5_000_000_000
        public var numTokens = 4
        /// Empty: the hostname.
        public var instanceID = ""
        /// Empty: an IPv4 address of the host's interfaces, chosen as dskit does
        /// (`InstanceAddress`; from `interfaceNames` when given).
        public var instanceAddr = ""
        public var interfaceNames: [String] = []
        /// 0: the gRPC port the server listens on.
        public var instancePort = 0
        public var availabilityZone = ""
        public var unregisterOnShutdown = false
        /// `-segment-writer.min-ready-duration` (Pyroscope's override: 30 s): at shutdown, how long
        /// Pushes are still taken after the entry turned LEAVING, for distributors whose view of
        /// the ring is not updated yet (ingest-and-ops.md §5.5 step 4).
        public var minReadyDurationNs: Int64 = 30_000_000_000
        /// `-segment-writer.readiness-check-ring-health`: `/ready` waits until every instance of
        /// the ring is ACTIVE and heartbeating (false: only this one), as dskit's lifecycler does.
        public var readinessCheckRingHealth = true
        /// `-segment-writer.ring.heartbeat-timeout`: an instance whose last heartbeat is older
        /// fails that check; 0 turns the heartbeat part off, as in dskit.
        public var heartbeatTimeoutNs: Int64 = 60_000_000_000
    }

    public struct Memberlist: Sendable, Equatable {
        /// `-memberlist.join`: gossip members to publish the ring entry to; empty: the writer
        /// registers nowhere.
        public var join: [String] = []
        public var clusterLabel = ""
        /// `-memberlist.tls-enabled`: accepted only as false (this writer speaks plain TCP to
        /// members); true fails start-up rather than every heartbeat.
        public var tlsEnabled = false
    }

    public struct Limits: Sendable, Equatable {
        /// `-validation.max-profile-size-bytes`: bound on a decompressed profile; 0: the
        /// writer's own ceiling (`SegmentWriterConfig.profileBytesMax`).
        public var maxProfileSizeBytes = 4_194_304
    }

    public var server = Server()
    public var segmentWriter = SegmentWriter()
    public var storage = Storage()
    public var metastore = Metastore()
    public var limits = Limits()
    public var ring = Ring()
    public var memberlist = Memberlist()
    /// `-shutdown-delay`: after SIGTERM/SIGINT, keep serving this long (with `/ready` 503) before draining.
    public var shutdownDelayNs: Int64 = 0
    public var logLevel = "info"
    public var target = "segment-writer"

    public init() {}
}
