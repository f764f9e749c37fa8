import ObjectStorage

extension SegmentWriterServer {
    /// The `-storage.*` settings the stores take. With S3 and no region that the configuration
    /// or the endpoint's host names, the bucket is asked once (GetBucketLocation); when it does
    /// not answer, requests are signed for us-east-1 and that is logged (minio-go would instead
    /// ask again before each request, and fail the request).
    static func storageConfiguration(_ config: SegmentWriterConfig, log: Log) -> StorageConfiguration {
        var storage = config.storageConfiguration
        do {
            storage = try storage.locatingS3Region(timeoutMs: startUpTimeoutMs(config))
        } catch {
            log.warn("s3 bucket region not found: signing for us-east-1", ["err": "\(error)"])
        }
        if let s3 = storage.s3 {
            log.info("s3 credentials", ["source": config.storage.s3.credentialsSource])
            log.info("s3 region", ["region": s3.signingRegion])
        }
        return storage
    }

    /// Upstream bounds its start-up bucket check by `-segment-writer.bucket-health-check-timeout`;
    /// here it bounds each start-up S3 request as a whole (that check, GetBucketLocation), so 0
    /// fails at once, as upstream's expired context does.
    static func startUpTimeoutMs(_ config: SegmentWriterConfig) -> Int {
        Int(max(1, config.segmentWriter.bucketHealthCheckTimeoutNs / 1_000_000))
    }
}
