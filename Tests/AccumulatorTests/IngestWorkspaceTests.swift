import BinaryCoding
import Pprof
import Testing
import TestSupport
@testable import Accumulator

/// The shards of one core share one `IngestWorkspace`: pushes interleaved across shards, a
/// refused one among them, give each shard exactly the object it gives with a workspace of its own.
@Suite struct IngestWorkspaceTests {
    @Test func shardsSharingAWorkspaceFlushWhatTheyFlushAlone() throws {
        let labels: [(name: ByteString, value: ByteString)] = [("__name__", "cpu"), ("service_name", "svc")]
        let files = ["cpu-exemplars.pb.gz", "profile_python", "go.cpu.labels.pprof", "profile_rust", "heap_delta", "nodejs-wall.pb.gz"]
        let pushes = try files.enumerated().map { i, f in
            TestPush(tenant: "t", labels: labels, profile: try corpusFile(f), id: profileID(UInt8(i)))
        }
        let undecodable = TestPush(tenant: "t", labels: labels, profile: [0x1F, 0x8B, 0x08, 0, 1, 2, 3], id: profileID(9))

        let shared = IngestWorkspace(profileBytesMax: AccumulatorLimits().profileBytesMax)
        let a = ShardAccumulator(workspace: shared), b = ShardAccumulator(workspace: shared)
        let aloneA = ShardAccumulator(), aloneB = ShardAccumulator()
        for (i, p) in pushes.enumerated() {
            let (shard, alone) = i % 2 == 0 ? (a, aloneA) : (b, aloneB)
            try shard.ingest(p)
            try alone.ingest(p)
            #expect(throws: PushError.self) { try a.ingest(undecodable) }
        }
        #expect(try #require(a.flushObject()).bytes == (try #require(aloneA.flushObject()).bytes))
        #expect(try #require(b.flushObject()).bytes == (try #require(aloneB.flushObject()).bytes))
    }
}
