import Accumulator
import BinaryCoding
import Foundation
import ObjectStorage
import Pprof
import SegmentObject
import Testing
import TestSupport
@testable import LoadGen

/// `DurabilityAudit` over a bucket of real objects (the server's accumulator and writer): each
/// finding it reports is made to happen once.
@Suite struct DurabilityAuditTests {
    let dir = NSTemporaryDirectory() + "/loadgen-audit-\(UInt64.random(in: 0 ... .max))"

    /// Profile id `n`: 16 bytes whose big-endian value is `n`.
    static func idBytes(_ n: UInt8) -> [UInt8] { Array(repeating: 0, count: 15) + [n] }

    /// One object on `shard` holding a push per id (each its own service), written under a ULID
    /// from `entropy` with its DLQ record (as the writer does without a metastore); returns the
    /// object's path and its metadata.
    @discardableResult
    func writeObject(shard: UInt32, ids: [UInt8], entropy: UInt8) throws -> (path: String, meta: BlockMeta) {
        let accumulator = ShardAccumulator()
        let profile = try Data(contentsOf: TestData.pprofDirectory.appendingPathComponent("profile_java"))
        for n in ids {
            let message = PushRequestMessage(tenantID: "anonymous", labels: [("__name__", "process_cpu"), ("service_name", ByteString("svc-\(n)"))],
                                             profile: [UInt8](profile), profileID: Self.idBytes(n), shard: shard, annotations: []).encode()
            _ = try message.withUnsafeBytes { raw in try accumulator.ingest(try PushRequestView(raw)) }
        }
        var w = ByteWriter()
        let ulid = ULID(timeMs: 1_764_000_000_000, entropy: Array(repeating: entropy, count: 10))
        let meta = try #require(accumulator.flush(segmentID: ulid, shard: shard, createdBy: "audit-test", into: &w))
        return (try place(w.bytes, shard: shard, ulid: ulid, meta: meta), meta)
    }

    /// `bytes` as the object `ulid` of `shard`, and with `meta` its DLQ record (id, shard and size set).
    @discardableResult
    func place(_ bytes: [UInt8], shard: UInt32, ulid: ULID, meta: BlockMeta?) throws -> String {
        let folder = "\(dir)/segments/\(shard)/anonymous/\(ulid)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder + "/block.bin", contents: Data(bytes)))
        if var record = meta {
            record.id = ByteString("\(ulid)")
            record.shard = shard
            record.size = UInt64(bytes.count)
            try writeRecord(record.encoded(), shard: shard, ulid: "\(ulid)")
        }
        return folder + "/block.bin"
    }

    func writeRecord(_ bytes: [UInt8], shard: UInt32, ulid: String) throws {
        let folder = "\(dir)/dlq/\(shard)/anonymous/\(ulid)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder + "/meta.pb", contents: Data(bytes)))
    }

    func audit(sent: [UInt128], acked: [UInt128], metadata: DurabilityAudit.Metadata = .deadLetterQueue, since: UInt64 = 0,
               othersMayPush: Bool = false) throws -> DurabilityAudit {
        let ledger = AuditLedger()
        ledger.add(sent: sent, acked: acked)
        return try DurabilityAudit.check(bucket: FilesystemObjectStore(root: dir), ledger: ledger, metadata: metadata,
                                         openedSinceUnixMs: since, othersMayPush: othersMayPush)
    }

    @Test func everyAckedPushStoredOncePasses() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeObject(shard: 1, ids: [1, 2], entropy: 1)
        try writeObject(shard: 2, ids: [3], entropy: 2)
        // Id 4 was sent and never answered OK; id 3 was stored although its answer was an error.
        let a = try audit(sent: [1, 2, 3, 4], acked: [1, 2])
        #expect(a.passed)
        #expect(a.sent == 4 && a.acked == 2 && a.objects == 2 && a.storedProfiles == 3)
        #expect(a.lost == 0 && a.unknown == 0 && a.duplicated == 0 && a.storedUnacknowledged == 1)
        #expect(a.metadataChecked && a.unregistered == 0 && a.orphanMetadata == 0)
    }

    @Test func anAckedPushInNoObjectIsLost() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeObject(shard: 1, ids: [1, 2], entropy: 1)
        let missing = UInt128(5) << 96 | 5
        let a = try audit(sent: [1, 2, missing], acked: [1, 2, missing])
        #expect(!a.passed)
        #expect(a.lost == 1 && a.lostExamples == ["00000005000000000000000000000005"])
    }

    @Test func anIdNeverSentIsUnknown() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeObject(shard: 1, ids: [1, 2], entropy: 1)
        let a = try audit(sent: [1], acked: [1])
        #expect(!a.passed && a.unknown == 1 && a.lost == 0)
        // A writer others push to too: their ids are reported, not held against it; an id of
        // this run the writer corrupted is still missing under its own value.
        let shared = try audit(sent: [1], acked: [1], othersMayPush: true)
        #expect(shared.passed && shared.unknown == 1 && shared.othersMayPush)
        let corrupted = try audit(sent: [3], acked: [3], othersMayPush: true)
        #expect(!corrupted.passed && corrupted.lost == 1 && corrupted.unknown == 2)
    }

    @Test func aPushInTwoObjectsIsDuplicated() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (path, meta) = try writeObject(shard: 1, ids: [1, 2], entropy: 1)
        let copy = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try place(copy, shard: 1, ulid: ULID(timeMs: 1_764_000_000_500, entropy: Array(repeating: 9, count: 10)), meta: meta)
        let a = try audit(sent: [1, 2], acked: [1, 2])
        #expect(!a.passed && a.duplicated == 2 && a.objects == 2)
        // Only this run's ids count: id 2 is another client's, twice stored, not held against it.
        let shared = try audit(sent: [1], acked: [1], othersMayPush: true)
        #expect(!shared.passed && shared.duplicated == 1 && shared.unknown == 1)
    }

    @Test func anObjectOurReadersRefuseFailsTheAudit() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (path, meta) = try writeObject(shard: 1, ids: [1], entropy: 1)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 1] ^= 0xFF  // the trailer's CRC
        try place(bytes, shard: 3, ulid: ULID(timeMs: 1_764_000_000_500, entropy: Array(repeating: 9, count: 10)), meta: meta)
        let a = try audit(sent: [1], acked: [1])
        #expect(!a.passed && a.lost == 0)
        #expect(a.unreadable.count == 1 && a.unreadable[0].hasPrefix("segments/3/anonymous/"))
    }

    @Test func anObjectWhoseDLQRecordIsMissingOrWrongIsUnregistered() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeObject(shard: 1, ids: [1], entropy: 1)
        // Shard 2's record names a size one byte off; shard 3's is gone.
        let (path, meta) = try writeObject(shard: 2, ids: [2], entropy: 2)
        let ulid = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        var wrong = meta
        wrong.id = ByteString(ulid)
        wrong.shard = 2
        wrong.size = UInt64(try Data(contentsOf: URL(fileURLWithPath: path)).count + 1)
        try writeRecord(wrong.encoded(), shard: 2, ulid: ulid)
        let (gone, _) = try writeObject(shard: 3, ids: [3], entropy: 3)
        let goneULID = URL(fileURLWithPath: gone).deletingLastPathComponent().lastPathComponent
        try FileManager.default.removeItem(atPath: "\(dir)/dlq/3/anonymous/\(goneULID)/meta.pb")
        let a = try audit(sent: [1, 2, 3], acked: [1, 2, 3])
        #expect(!a.passed && a.unregistered == 2 && a.unregisteredAcknowledged == 2 && a.orphanMetadata == 0 && a.lost == 0)
        // Unchecked: not looked for.
        let b = try audit(sent: [1, 2, 3], acked: [1, 2, 3], metadata: .unchecked)
        #expect(b.passed && !b.metadataChecked && b.unregistered == 0)
        // Their pushes answered with an error: the objects are reported, the promise held.
        let c = try audit(sent: [1, 2, 3], acked: [1])
        #expect(c.passed && c.unregistered == 2 && c.unregisteredAcknowledged == 0)
    }

    @Test func aDLQRecordWithoutItsObjectIsAnOrphan() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, meta) = try writeObject(shard: 1, ids: [1], entropy: 1)
        try writeRecord(meta.encoded(), shard: 5, ulid: "01KAAAAAAAAAAAAAAAAAAAAAAA")
        let a = try audit(sent: [1], acked: [1])
        #expect(!a.passed && a.orphanMetadata == 1 && a.unregistered == 0 && a.lost == 0)
    }

    @Test func segmentsOpenedBeforeTheRunAreLeftOut() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An earlier run's object (and its DLQ record) at 1_764_000_000_000, this run's 500 ms later.
        try writeObject(shard: 1, ids: [9], entropy: 1)
        let (path, meta) = try writeObject(shard: 1, ids: [1, 2], entropy: 2)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try place(bytes, shard: 2, ulid: ULID(timeMs: 1_764_000_000_500, entropy: Array(repeating: 3, count: 10)), meta: meta)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.removeItem(atPath: "\(dir)/dlq/1/anonymous/\(URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent)")
        let everything = try audit(sent: [1, 2], acked: [1, 2])
        #expect(!everything.passed && everything.unknown == 1 && everything.objects == 2)
        let thisRun = try audit(sent: [1, 2], acked: [1, 2], since: 1_764_000_000_400)
        #expect(thisRun.passed && thisRun.objects == 1 && thisRun.storedProfiles == 2 && thisRun.orphanMetadata == 0)
    }

    /// A metastore double for the audit: what `GetBlockMetadata` would return, `shard/ULID` →
    /// size, and which objects it was asked about.
    final class Registry: @unchecked Sendable {
        var blocks: [String: UInt64] = [:]
        var asked: [BucketObject] = []

        var metadata: DurabilityAudit.Metadata {
            .metastore { objects in
                self.asked = objects
                return self.blocks
            }
        }
    }

    /// The object at `path`: its bucket key and size.
    func key(_ path: String) throws -> (key: String, size: UInt64) {
        let url = URL(fileURLWithPath: path).deletingLastPathComponent()
        let shard = url.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
        return ("\(shard)/\(url.lastPathComponent)", UInt64(try Data(contentsOf: URL(fileURLWithPath: path)).count))
    }

    @Test func withAMetastoreEachObjectIsRegisteredThereOrInTheDLQ() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (one, _) = try writeObject(shard: 1, ids: [1], entropy: 1)
        let (two, _) = try writeObject(shard: 2, ids: [2], entropy: 2)
        let (three, _) = try writeObject(shard: 3, ids: [3], entropy: 3)
        // 1 and 2 are registered (AddBlock succeeded, so no DLQ record); 3 only in the DLQ.
        for path in [one, two] {
            let k = try key(path)
            try FileManager.default.removeItem(atPath: "\(dir)/dlq/\(k.key.replacingOccurrences(of: "/", with: "/anonymous/"))/meta.pb")
        }
        let registry = Registry()
        for path in [one, two] {
            let k = try key(path)
            registry.blocks[k.key] = k.size
        }
        let a = try audit(sent: [1, 2, 3], acked: [1, 2, 3], metadata: registry.metadata)
        #expect(a.passed && a.metadataChecked && a.metastoreChecked)
        #expect(a.registeredInMetastore == 2 && a.unregistered == 0 && a.orphanMetadata == 0)
        #expect(Set(registry.asked.map(\.path)) == Set([one, two, three].map { String($0.dropFirst(dir.count + 1)) }))
        // The metastore forgot object 2 (or holds another size): acked pushes no one can find.
        registry.blocks[try key(two).key] = try key(two).size + 1
        let b = try audit(sent: [1, 2, 3], acked: [1, 2, 3], metadata: registry.metadata)
        #expect(!b.passed && b.registeredInMetastore == 1 && b.unregistered == 1 && b.unregisteredAcknowledged == 1)
        #expect(TextReport.render(b).contains("metastore holds 1, the DLQ 1, 1 unregistered (1 holding pushes acked OK)"))
        // Push 2 was answered with an error (AddBlock failed, the DLQ off): reported, not failed.
        let c = try audit(sent: [1, 2, 3], acked: [1, 3], metadata: registry.metadata)
        #expect(c.passed && c.unregistered == 1 && c.unregisteredAcknowledged == 0)
    }

    @Test func aMetastoreThatCannotBeAskedStopsTheAudit() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeObject(shard: 1, ids: [1], entropy: 1)
        let unreachable = DurabilityAudit.Metadata.metastore { _ throws(AuditError) in throw .metastore("GetBlockMetadata: deadline exceeded") }
        #expect(throws: AuditError.self) { try audit(sent: [1], acked: [1], metadata: unreachable) }
    }

    @Test func theMetastoreIsAskedPerShardInBatchesOfValidULIDs() {
        let ulid = { (n: Int) in "\(ULID(timeMs: 1_764_000_000_000 + UInt64(n), entropy: Array(repeating: UInt8(n % 256), count: 10)))" }
        var objects = (0 ..< 300).map { BucketObject(shard: "3", ulid: ulid($0), path: "segments/3/anonymous/\(ulid($0))/block.bin") }
        objects.append(BucketObject(shard: "1", ulid: ulid(7), path: "p1"))
        objects.append(BucketObject(shard: "1", ulid: "not-a-ulid", path: "p2"))
        objects.append(BucketObject(shard: "x", ulid: ulid(8), path: "p3"))
        let calls = MetastoreRegistrations.queries(objects)
        #expect(calls.map(\.shard) == [1, 3, 3])
        #expect(calls.map(\.blocks.count) == [1, 256, 44])
        #expect(calls[0].blocks == [ulid(7)])
        #expect(Set(calls[1].blocks + calls[2].blocks) == Set((0 ..< 300).map(ulid)))
    }
}
