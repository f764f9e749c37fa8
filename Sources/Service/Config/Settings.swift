extension Setting {
    /// Every setting, in `-help` order. Flag and YAML names are Pyroscope's where it has the concept.
    static let all: [Setting] = [
        Setting("server.grpc-listen-address", "server.grpc_listen_address", .string(\.server.grpcListenAddress), "gRPC server listen address (empty: all interfaces, IPv4 and IPv6)."),
        Setting("server.grpc-listen-port", "server.grpc_listen_port", .int(\.server.grpcListenPort), "gRPC server listen port."),
        Setting("server.http-listen-address", "server.http_listen_address", .string(\.server.httpListenAddress), "HTTP server listen address (empty: all interfaces, IPv4 and IPv6)."),
        Setting("server.http-listen-port", "server.http_listen_port", .int(\.server.httpListenPort), "HTTP server listen port (/ready, /metrics, /healthz)."),
        Setting("server.grpc-max-recv-msg-size-bytes", "server.grpc_server_max_recv_msg_size", .int(\.server.grpcMaxRecvMsgSizeBytes), "Largest gRPC message the server accepts."),
        Setting("server.grpc-max-concurrent-streams", "server.grpc_server_max_concurrent_streams", .int(\.server.grpcMaxConcurrentStreams), "Concurrent HTTP/2 streams per connection."),
        Setting("server.graceful-shutdown-timeout", "server.graceful_shutdown_timeout", .duration(\.server.gracefulShutdownTimeoutNs), "Longest wait for pending acknowledgements on shutdown."),
        Setting("segment-writer.segment-duration", "segment_writer.segment_duration", .duration(\.segmentWriter.segmentDurationNs), "How often each shard flushes its segment."),
        Setting("segment-writer.upload-timeout", "segment_writer.upload-timeout", .duration(\.segmentWriter.uploadTimeoutNs), "Timeout for a segment upload, including retries."),
        Setting("segment-writer.upload-max-retries", "segment_writer.upload-retry_max_retries", .int(\.segmentWriter.uploadMaxRetries), "Attempts of the primary upload."),
        Setting("segment-writer.upload-retry-min-period", "segment_writer.upload-retry_min_period", .duration(\.segmentWriter.uploadRetryMinPeriodNs), "Minimum delay when backing off."),
        Setting("segment-writer.upload-retry-max-period", "segment_writer.upload-retry_max_period", .duration(\.segmentWriter.uploadRetryMaxPeriodNs), "Maximum delay when backing off."),
        Setting("segment-writer.upload-hedge-after", "segment_writer.upload-hedge_upload_after", .duration(\.segmentWriter.uploadHedgeAfterNs), "Time after which a hedged upload starts."),
        Setting("segment-writer.upload-hedge-rate-max", "segment_writer.upload-hedge_rate_max", .double(\.segmentWriter.uploadHedgeRateMax), "Hedged uploads per second."),
        Setting("segment-writer.upload-hedge-rate-burst", "segment_writer.upload-hedge_rate_burst", .int(\.segmentWriter.uploadHedgeRateBurst), "Hedged uploads in a burst."),
        Setting("segment-writer.metadata-dlq-enabled", "segment_writer.metadata_dlq_enabled", .bool(\.segmentWriter.metadataDLQEnabled), "Write metadata to the DLQ path when AddBlock fails."),
        Setting("segment-writer.metadata-update-timeout", "segment_writer.metadata_update_timeout", .duration(\.segmentWriter.metadataUpdateTimeoutNs), "Timeout for AddBlock."),
        Setting("segment-writer.bucket-health-check-enabled", "segment_writer.bucket_health_check_enabled", .bool(\.segmentWriter.bucketHealthCheckEnabled), "Check the bucket at start-up (also warms connections)."),
        Setting("segment-writer.bucket-health-check-timeout", "segment_writer.bucket_health_check_timeout", .duration(\.segmentWriter.bucketHealthCheckTimeoutNs), "Timeout for the bucket health check."),
        Setting("segment-writer.io-uring-enabled", "segment_writer.io_uring_enabled", .bool(\.segmentWriter.ioUringEnabled), "Uploads through io_uring; false (or a refused io_uring_setup) uses blocking calls on the loops."),
        Setting("segment-writer.event-loops", "segment_writer.event_loops", .int(\.segmentWriter.eventLoops), "Event loops, one pinned thread each; 0 = one per CPU. Shard s is owned by loop s mod N."),
        Setting("segment-writer.segment-max-bytes", "segment_writer.segment_max_bytes", .int(\.segmentWriter.segmentMaxBytes), "A shard flushes early once it holds this many bytes."),
        Setting("segment-writer.memory-budget-bytes", "segment_writer.memory_budget_bytes", .int(\.segmentWriter.memoryBudgetBytes), "Accumulated plus in-flight bytes before Pushes get RESOURCE_EXHAUSTED."),
        Setting("validation.max-profile-size-bytes", "limits.max_profile_size_bytes", .int(\.limits.maxProfileSizeBytes), "Largest decompressed profile accepted."),
        Setting("storage.backend", "storage.backend", .backend, "Object storage backend: filesystem or s3."),
        Setting("storage.prefix", "storage.prefix", .string(\.storage.prefix), "Prefix for every object key."),
        Setting("storage.filesystem.dir", "storage.filesystem.dir", .string(\.storage.filesystemDir), "Directory of the filesystem bucket."),
        Setting("storage.s3.endpoint", "storage.s3.endpoint", .string(\.storage.s3.endpoint), "S3 endpoint, host:port."),
        Setting("storage.s3.bucket-name", "storage.s3.bucket_name", .string(\.storage.s3.bucketName), "S3 bucket name."),
        Setting("storage.s3.region", "storage.s3.region", .string(\.storage.s3.region), "S3 region."),
        Setting("storage.s3.access-key-id", "storage.s3.access_key_id", .string(\.storage.s3.accessKeyID), "S3 access key ID."),
        Setting("storage.s3.secret-access-key", "storage.s3.secret_access_key", .string(\.storage.s3.secretAccessKey), "S3 secret access key."),
        Setting("storage.s3.insecure", "storage.s3.insecure", .bool(\.storage.s3.insecure), "Use http:// instead of https://."),
        Setting("storage.s3.bucket-lookup-type", "storage.s3.bucket_lookup_type", .bucketLookup, "auto, virtual-hosted or path."),
        Setting("storage.s3.http.insecure-skip-verify", "storage.s3.http.insecure_skip_verify", .bool(\.storage.s3.insecureSkipVerify), "Accept any TLS certificate."),
        Setting("metastore.address", "metastore.address", .string(\.metastore.address), "Metastore addresses, comma separated: host:port, host:port/raft-id or dns:///host:port (resolved at start-up); empty writes metadata to the DLQ path only."),
        Setting("metastore.grpc-client-config.connect-timeout", "metastore.grpc_client_config.connect_timeout", .duration(\.metastore.connectTimeoutNs), "A metastore connect with no answer within this is abandoned; AddBlock moves on to the next node."),
        Setting("shutdown-delay", "shutdown_delay", .duration(\.shutdownDelayNs), "Wait time before shutting down after a termination signal: Pushes are still served, /ready answers 503; a second signal ends it."),
        Setting("log.level", "server.log_level", .string(\.logLevel), "debug, info, warn or error."),
        Setting("target", "target", .string(\.target), "Accepted for compatibility: segment-writer (or all)."),
    ]

    /// Pyroscope settings this process accepts but has no use for (ring membership, other
    /// components), so a cluster's shared flags and config file work unchanged.
    static let ignoredFlagPrefixes = [
        "segment-writer.lifecycler.", "segment-writer.ring.", "segment-writer.grpc-client-config",
        "segment-writer.consul.", "segment-writer.etcd.", "segment-writer.multi.", "segment-writer.distributor.",
        "segment-writer.num-tokens", "segment-writer.heartbeat-", "segment-writer.observe-period",
        "segment-writer.join-after", "segment-writer.min-ready-duration", "segment-writer.final-sleep",
        "segment-writer.tokens-file-path", "segment-writer.availability-zone", "segment-writer.unregister-on-shutdown",
        "segment-writer.readiness-check-ring-health", "segment-writer.enable-inet6", "segment-writer.store",
        "segment-writer.prefix", "segment-writer.flush-concurrency", "memberlist.",
        "server.http-read-timeout", "server.http-write-timeout", "server.http-idle-timeout", "server.grpc.keepalive.",
        "server.grpc-max-send-msg-size-bytes", "server.grpc-conn-limit", "server.http-conn-limit", "log.format",
        "storage.s3.signature-version", "storage.s3.force-path-style", "storage.s3.sse.", "storage.s3.http.",
        "storage.s3.native-aws-auth-enabled", "storage.gcs.", "storage.azure.", "storage.swift.", "storage.cos.",
        "metastore.", "auth.multitenancy-enabled", "architecture.storage", "write-path",
    ]

    static func isIgnored(flag: String) -> Bool {
        ignoredFlagPrefixes.contains { flag.hasPrefix($0) }
    }
}
