import Accumulator
import BinaryCoding
import Pprof
import SegmentObject

/// Pushes through `ShardAccumulator` the way the server does, then flushes one object.
struct ShardAccumulatorHarness {
    let accumulator = ShardAccumulator()

    func push(tenant: ByteString, service: ByteString, profile: [UInt8], n: UInt8) throws {
        let labels: [(name: ByteString, value: ByteString)] = [("__name__", "process_cpu"), ("env", "test"), ("service_name", service)]
        let message = PushRequestMessage(tenantID: tenant, labels: labels, profile: profile,
                                         profileID: (0 ..< 16).map { UInt8($0) &* 17 &+ n }, shard: 1, annotations: []).encode()
        _ = try message.withUnsafeBytes { raw in try accumulator.ingest(try PushRequestView(raw)) }
    }

    func flush() -> [UInt8]? {
        var w = ByteWriter()
        let id = ULID(timeMs: 1_700_000_000_000, entropy: Array(repeating: 7, count: 10))
        guard accumulator.flush(segmentID: id, shard: 1, createdBy: "segtool-test", into: &w) != nil else { return nil }
        return w.bytes
    }
}
