import BinaryCoding
import Foundation
import Metastore
import Runtime
import SegmentObject

/// What a writer's metastore holds of the audited objects: `GetBlockMetadata` for each shard's
/// ULIDs (segments are registered under the empty tenant), a batch at a time, through the
/// writer's own `MetastoreClient` (every node of `-metastore.address`, leader hints, retries
/// inside the timeout) on a loop of its own.
public struct MetastoreRegistrations {
    /// ULIDs per call: about 7 KiB of request, a few hundred KiB of answer.
    static let blocksPerCall = 256

    let endpoints: [MetastoreEndpoint]
    let timeoutNs: UInt64

    /// The metastore `address` names (`-metastore.address`: `host:port`, comma-separated),
    /// asked with `timeoutNs` per call.
    public init(address: String, timeoutNs: UInt64) throws(AuditError) {
        do {
            endpoints = MetastoreAddresses.resolve(try MetastoreAddresses.parse(address)).endpoints
        } catch {
            throw .metastore("\(error)")
        }
        guard !endpoints.isEmpty else { throw .metastore("no metastore address") }
        self.timeoutNs = timeoutNs
    }

    /// `BucketObject.segment` → size of each of `objects` the metastore holds.
    public func registered(_ objects: [BucketObject]) throws(AuditError) -> [String: UInt64] {
        let calls = Self.queries(objects)
        guard !calls.isEmpty else { return [:] }
        let answers = try ask(calls.map { BlockMetadataQuery.request(shard: $0.shard, blocks: $0.blocks) })
        var registered: [String: UInt64] = [:]
        for answer in answers {
            let blocks: [BlockMeta]
            do {
                blocks = try answer.withUnsafeBytes { raw throws(DecodeError) in try BlockMetadataQuery.blocks(inResponse: raw) }
            } catch {
                throw .metastore("GetBlockMetadataResponse: \(error)")
            }
            for meta in blocks { registered[BucketObject.segment(shard: String(meta.shard), ulid: meta.id.description)] = meta.size }
        }
        return registered
    }

    /// The calls that ask about `objects`: per shard, `blocksPerCall` ULIDs at a time. A folder
    /// name that is no shard number cannot be registered under it, nor one that is no ULID
    /// (upstream's index parses every listed id with `ulid.MustParse`): neither is asked about.
    static func queries(_ objects: [BucketObject]) -> [(shard: UInt32, blocks: [String])] {
        var calls: [(shard: UInt32, blocks: [String])] = []
        for (shard, inShard) in Dictionary(grouping: objects, by: \.shard).sorted(by: { $0.key < $1.key }) {
            guard let number = UInt32(shard) else { continue }
            let ulids = inShard.map(\.ulid).filter { (try? ULID(parsing: Array($0.utf8))) != nil }
            for start in stride(from: 0, to: ulids.count, by: blocksPerCall) {
                calls.append((number, Array(ulids[start ..< min(start + blocksPerCall, ulids.count)])))
            }
        }
        return calls
    }

    /// The answers to `requests`, one call after another on a loop started for them.
    private func ask(_ requests: [[UInt8]]) throws(AuditError) -> [[UInt8]] {
        var loopConfiguration = EventLoopConfiguration()
        loopConfiguration.pinThreads = false
        loopConfiguration.ringEntries = 0
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(loopCount: 1, configuration: loopConfiguration)
        } catch {
            throw .metastore("an event loop: \(error)")
        }
        group.start()
        defer { group.shutdown() }
        var configuration = MetastoreClientConfiguration(endpoints: endpoints)
        configuration.timeoutNs = timeoutNs
        let clientConfiguration = configuration
        let loop = group.loops[0]
        let outcome = Outcome()
        let posted = loop.post {
            let client = MetastoreClient(loop: loop, configuration: clientConfiguration)
            var answers: [[UInt8]] = []
            func next() {
                guard answers.count < requests.count else { return outcome.finish(.success(answers)) }
                client.getBlockMetadata(requests[answers.count]) { result in
                    switch result {
                    case .success(let answer):
                        answers.append(answer)
                        next()
                    case .failure(let error):
                        outcome.finish(.failure(.metastore("GetBlockMetadata: \(error)")))
                    }
                }
            }
            next()
        }
        guard posted else { throw .metastore("the event loop did not start") }
        return try outcome.wait().get()
    }
}

/// The loop's result, handed to the waiting thread.
private final class Outcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<[[UInt8]], AuditError>?

    func finish(_ result: Result<[[UInt8]], AuditError>) {
        self.result = result
        done.signal()
    }

    /// The semaphore orders the write before this read.
    func wait() -> Result<[[UInt8]], AuditError> {
        done.wait()
        return result!
    }
}
