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
    /// Whether the server registers its objects with a metastore (`-metastore.address`); if not,
    /// every object's metadata goes to the bucket's DLQ.
    public let registersWithMetastore: Bool
    public let segmentDurationMs: Int

    public init(serverArguments: [String]) throws(LoadGenError) {
        do {
            let config = try ConfigLoader.load(arguments: serverArguments, environment: ProcessInfo.processInfo.environment,
                                               readFile: { try String(contentsOfFile: $0, encoding: .utf8) }).config
            store = try config.storageConfiguration.makeBlockingStore()
            summary = config.storage.summary
            registersWithMetastore = !config.metastore.address.isEmpty
            segmentDurationMs = Int(config.segmentWriter.segmentDurationNs / 1_000_000)
        } catch {
            throw LoadGenError.usage("the segment-writer's flags: \(error)")
        }
    }
}
