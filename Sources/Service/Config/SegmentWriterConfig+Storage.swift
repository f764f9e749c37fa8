import ObjectStorage

extension SegmentWriterConfig {
    /// The `-storage.*` settings as the object stores take them: what the server writes to,
    /// and what a tool that reads the server's bucket back (loadgen's audit) opens.
    public var storageConfiguration: StorageConfiguration {
        var s3: S3Configuration?
        if storage.backend == .s3 {
            let c = storage.s3
            let encryption: S3ServerSideEncryption?
            do { encryption = try c.serverSideEncryption() } catch { preconditionFailure("-storage.s3.sse.* not checked by ConfigLoader: \(error)") }
            s3 = S3Configuration(
                endpoint: c.endpoint, bucketName: c.bucketName, region: c.region,
                credentials: AWSCredentials(accessKeyID: c.accessKeyID, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken),
                insecure: c.insecure, bucketLookup: c.forcePathStyle ? .pathStyle : S3BucketLookup(rawValue: c.bucketLookupType.rawValue) ?? .auto,
                tlsVerification: c.insecureSkipVerify ? .skip : .systemCAs, serverSideEncryption: encryption)
        }
        return StorageConfiguration(backend: storage.backend == .s3 ? .s3 : .filesystem, prefix: storage.prefix,
                                    filesystemDirectory: storage.filesystemDir, s3: s3)
    }
}

extension SegmentWriterConfig.Storage {
    /// `filesystem:DIR` or `s3:ENDPOINT/BUCKET`: the start-up log's `storage` field.
    public var summary: String {
        switch backend {
        case .filesystem: "filesystem:\(filesystemDir)"
        case .s3: "s3:\(s3.endpoint)/\(s3.bucketName)"
        }
    }
}
