import ObjectStorage

extension ConfigLoader {
    /// With `-storage.backend=s3` and no access key configured, the credentials thanos objstore
    /// would find (environment, then shared credentials file), so that a writer with none
    /// refuses to start instead of failing every upload with 403. The same with
    /// `-storage.s3.native-aws-auth-enabled`: the AWS SDK's chain starts with those sources too.
    static func resolveS3Credentials(_ config: inout SegmentWriterConfig, environment: [String: String],
                                     readFile: (String) throws -> String) throws(ConfigError) {
        guard config.storage.backend == .s3, config.storage.s3.accessKeyID.isEmpty else { return }
        let found: AWSCredentialChain.Found
        do {
            found = try AWSCredentialChain.resolve(environment: environment, readFile: readFile)
        } catch {
            let asked = config.storage.s3.nativeAWSAuthEnabled ? "-storage.s3.native-aws-auth-enabled=true" : "-storage.s3.access-key-id is empty"
            throw .invalid("\(asked) and \(error)")
        }
        // The key and token go into request headers, as the configured ones do (`validate`).
        let c = found.credentials
        guard !hasControlCharacter(c.accessKeyID), !hasControlCharacter(c.sessionToken) else {
            throw .invalid("the access key ID or session token from \(found.source) contains a control character such as a newline")
        }
        config.storage.s3.accessKeyID = found.credentials.accessKeyID
        config.storage.s3.secretAccessKey = found.credentials.secretAccessKey
        config.storage.s3.sessionToken = found.credentials.sessionToken
        config.storage.s3.credentialsSource = found.source
    }
}
