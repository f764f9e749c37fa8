import ObjectStorage

extension ConfigLoader {
    /// With `-storage.backend=s3` and no access key configured, the credentials thanos objstore
    /// would find (environment, then shared credentials file), or the IAM source it would ask,
    /// which the server fetches from at start-up; with none, start-up is refused instead of
    /// every upload failing with 403. The same with `-storage.s3.native-aws-auth-enabled`: the
    /// AWS SDK's chain has those sources too.
    static func resolveS3Credentials(_ config: inout SegmentWriterConfig, environment: [String: String],
                                     readFile: (String) throws -> String) throws(ConfigError) {
        guard config.storage.backend == .s3, config.storage.s3.accessKeyID.isEmpty else { return }
        let resolution: AWSCredentialChain.Resolution
        do {
            resolution = try AWSCredentialChain.resolve(environment: environment, readFile: readFile)
        } catch {
            throw .invalid("\(config.storage.s3.credentialsAsked) and \(error)")
        }
        switch resolution {
        case .iam(let source, let looked):
            config.storage.s3.iamSource = source
            config.storage.s3.credentialsLooked = looked
            config.storage.s3.credentialsSource = source.name
        case .found(let found):
            // The key and token go into request headers, as the configured ones do (`validate`).
            let c = found.credentials
            guard !hasControlCharacter(c.accessKeyID), !hasControlCharacter(c.sessionToken) else {
                throw .invalid("the access key ID or session token from \(found.source) contains a control character such as a newline")
            }
            config.storage.s3.accessKeyID = c.accessKeyID
            config.storage.s3.secretAccessKey = c.secretAccessKey
            config.storage.s3.sessionToken = c.sessionToken
            config.storage.s3.credentialsSource = found.source
        }
    }
}

extension SegmentWriterConfig.S3 {
    /// Why the credential chain was asked, the start of its errors.
    var credentialsAsked: String {
        nativeAWSAuthEnabled ? "-storage.s3.native-aws-auth-enabled=true" : "-storage.s3.access-key-id is empty"
    }
}
