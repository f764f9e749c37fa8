import ObjectStorage

extension SegmentWriterServer {
    /// The `-storage.*` settings the stores take, and the refresher of IAM credentials when the
    /// configuration chose an IAM source: fetched once here, within the start-up deadline
    /// (failing start-up when that fails), then refreshed on a thread of their own. With S3 and
    /// no region that the configuration or the endpoint's host names, the bucket is asked once
    /// (GetBucketLocation); when it does not answer, requests are signed for us-east-1 and that
    /// is logged (minio-go would instead ask again before each request, and fail the request).
    static func storageConfiguration(_ config: SegmentWriterConfig,
                                     log: Log) throws(ConfigError) -> (StorageConfiguration, AWSCredentialsRefresher?) {
        var storage = config.storageConfiguration
        var refresher: AWSCredentialsRefresher?
        if let source = config.storage.s3.iamSource {
            do {
                refresher = try AWSCredentialsRefresher.start(client: AWSIAMClient(source: source), timeoutMs: startUpTimeoutMs(config),
                                                              warn: { log.warn($0, $1) })
            } catch {
                let failed = AWSCredentialsError.notFound(looked: config.storage.s3.credentialsLooked + ["\(source.description): \(error)"])
                throw .invalid("\(config.storage.s3.credentialsAsked) and \(failed)")
            }
            storage.s3?.credentials = refresher!.provider
        }
        do {
            storage = try storage.locatingS3Region(timeoutMs: startUpTimeoutMs(config))
        } catch {
            log.warn("s3 bucket region not found: signing for us-east-1", ["err": "\(error)"])
        }
        if let s3 = storage.s3 {
            log.info("s3 credentials", ["source": config.storage.s3.credentialsSource])
            log.info("s3 region", ["region": s3.signingRegion])
        }
        return (storage, refresher)
    }

    /// Upstream bounds its start-up bucket check by `-segment-writer.bucket-health-check-timeout`;
    /// here it bounds each start-up S3 request as a whole (that check, GetBucketLocation, an IAM
    /// source's first fetch), so 0 fails at once, as upstream's expired context does.
    static func startUpTimeoutMs(_ config: SegmentWriterConfig) -> Int {
        Int(max(1, config.segmentWriter.bucketHealthCheckTimeoutNs / 1_000_000))
    }
}
