import Foundation
import ObjectStorage
import SegmentWriterService

/// The bucket a segment-writer writes, opened as its own flags (and `-config.file`) configure
/// it, read by the service's `ConfigLoader`: a filesystem directory or an S3 bucket, under
/// `-storage.prefix`. Loadgen's census and audit read it back: the server it started, or with
/// `--target` a running one whose flags follow `--`.
public struct ServerBucket {
    public let store: any ListableObjectStore
    /// `filesystem:DIR` or `s3:ENDPOINT/BUCKET`, as the server logs it.
    public let summary: String
    /// The metastore the server registers its objects with (`-metastore.address`), empty for
    /// none: then every object's metadata goes to the bucket's DLQ.
    public let metastoreAddress: String
    public let segmentDurationMs: Int

    public init(serverArguments: [String]) throws(LoadGenError) {
        do {
            let config = try ConfigLoader.load(arguments: serverArguments, environment: ProcessInfo.processInfo.environment,
                                               readFile: { try String(contentsOfFile: $0, encoding: .utf8) }).config
            var storage = config.storageConfiguration
            if let source = config.storage.s3.iamSource {
                // Fetched once, as the server first does; an audit ends long before they expire.
                storage.s3?.credentials = AWSCredentialsProvider(try AWSIAMClient(source: source).fetch(timeoutMs: 10_000).credentials)
            }
            // As the server signs: for the bucket's region when nothing names it.
            storage = (try? storage.locatingS3Region()) ?? storage
            store = try storage.makeBlockingStore()
            summary = config.storage.summary
            metastoreAddress = config.metastore.address
            segmentDurationMs = Int(config.segmentWriter.segmentDurationNs / 1_000_000)
        } catch {
            throw LoadGenError.usage("the segment-writer's flags: \(error)")
        }
    }

    /// Where the audit looks for each object's metadata: the server's metastore (asked with
    /// `GetBlockMetadata`), else the DLQ, as the server registers them.
    public func auditedMetadata() throws(AuditError) -> DurabilityAudit.Metadata {
        guard !metastoreAddress.isEmpty else { return .deadLetterQueue }
        // An audit waits longer than a flush would: nothing is held up by it.
        let metastore = try MetastoreRegistrations(address: metastoreAddress, timeoutNs: 10_000_000_000)
        return .metastore(registered: metastore.registered)
    }
}
