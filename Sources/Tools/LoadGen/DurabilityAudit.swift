import BinaryCoding
import Foundation
import ProfilesParquet
import SegmentObject
import Synchronization

/// The profile ids a run sent and those the server acknowledged OK, over the whole run (warm-up
/// and drain included), for `DurabilityAudit`. Each client loop hands in its lists once, when
/// it finishes.
public final class AuditLedger: Sendable {
    private struct Lists {
        var sent: [UInt128] = []
        var acked: [UInt128] = []
    }
    private let lists = Mutex(Lists())

    public init() {}

    func add(sent: [UInt128], acked: [UInt128]) {
        lists.withLock {
            $0.sent += sent
            $0.acked += acked
        }
    }

    public var sent: [UInt128] { lists.withLock { $0.sent } }
    public var acked: [UInt128] { lists.withLock { $0.acked } }
}

/// "A client is never told OK for data that is not durable", checked after a run: every segment
/// object in a filesystem bucket is read back with our own readers, and the `ID` column of each
/// dataset's profiles table (a push's `profile_id` on every row it made, profiles-parquet.md §2)
/// is compared with what the run sent and what it was told OK for. Run it once the server has
/// stopped (its drain flushes what it accepted).
public struct DurabilityAudit: Codable, Sendable, Equatable {
    public var sent: Int
    public var acked: Int
    public var objects: Int
    /// Distinct profile ids found in the objects.
    public var storedProfiles: Int
    /// Acknowledged OK, in no object: a broken promise.
    public var lost: Int
    /// In an object, never sent by this run (a corrupted id, or someone else's push).
    public var unknown: Int
    /// In more than one object: one push is one dataset of one segment.
    public var duplicated: Int
    /// Sent, not acknowledged OK (an error, or unanswered by the drain deadline), stored anyway:
    /// allowed (the client would retry), reported.
    public var storedUnacknowledged: Int
    /// Objects our readers refuse, with the reason.
    public var unreadable: [String]
    /// Up to five lost ids (32 hex digits), to look for.
    public var lostExamples: [String]
    /// Whether the objects' metadata was looked for in the bucket's DLQ: the writer puts it there
    /// when no metastore is configured (segment-object.md §10.5), so a missing record would
    /// leave its object unknown to Pyroscope.
    public var metadataChecked: Bool
    /// Objects whose `dlq/{shard}/anonymous/{ULID}/meta.pb` is missing or does not describe them
    /// (ULID, shard, size).
    public var unregistered: Int
    /// DLQ records without their object.
    public var orphanMetadata: Int
    /// Nothing lost, unknown, duplicated, unreadable or (when checked) unregistered or orphaned.
    public var passed: Bool

    public static func check(dataDirectory: String, ledger: AuditLedger, metadataInDLQ: Bool) -> DurabilityAudit {
        var objectsHolding: [UInt128: Int] = [:]
        var unreadable: [String] = []
        let objects = BucketObjects.list(dataDirectory)
        let paths = objects.map(\.path)
        for path in paths {
            do {
                for id in try profileIDs(path: path) { objectsHolding[id, default: 0] += 1 }
            } catch {
                unreadable.append("\(path): \(error)")
            }
        }
        let sent = Set(ledger.sent)
        let acked = Set(ledger.acked)
        let lost = acked.filter { objectsHolding[$0] == nil }
        let unknown = objectsHolding.keys.filter { !sent.contains($0) }.count
        let duplicated = objectsHolding.values.filter { $0 > 1 }.count
        var unregistered = 0, orphans = 0
        if metadataInDLQ {
            let records = BucketObjects.list(dataDirectory, top: "dlq", file: "meta.pb")
            unregistered = objects.filter { !describes(dataDirectory, $0) }.count
            let objectKeys = Set(objects.map { $0.shard + "/" + $0.ulid })
            orphans = records.filter { !objectKeys.contains($0.shard + "/" + $0.ulid) }.count
        }
        return DurabilityAudit(
            sent: sent.count, acked: acked.count, objects: paths.count, storedProfiles: objectsHolding.count,
            lost: lost.count, unknown: unknown, duplicated: duplicated,
            storedUnacknowledged: objectsHolding.keys.filter { sent.contains($0) && !acked.contains($0) }.count,
            unreadable: unreadable, lostExamples: lost.sorted().prefix(5).map(hex),
            metadataChecked: metadataInDLQ, unregistered: unregistered, orphanMetadata: orphans,
            passed: lost.isEmpty && unknown == 0 && duplicated == 0 && unreadable.isEmpty && unregistered == 0 && orphans == 0)
    }

    /// Whether the object's DLQ record is there and names it: its ULID, its shard, its size.
    static func describes(_ dataDirectory: String, _ object: (shard: String, ulid: String, path: String)) -> Bool {
        let record = "\(dataDirectory)/dlq/\(object.shard)/anonymous/\(object.ulid)/meta.pb"
        guard let bytes = FileManager.default.contents(atPath: record),
              let size = try? FileManager.default.attributesOfItem(atPath: object.path)[.size] as? Int,
              let meta = try? [UInt8](bytes).withUnsafeBytes({ raw throws(DecodeError) in try BlockMeta(decoding: raw) })
        else { return false }
        return meta.id.description == object.ulid && String(meta.shard) == object.shard && meta.size == UInt64(size)
    }

    /// The distinct ids of every service dataset's profiles table in one object.
    static func profileIDs(path: String) throws -> Set<UInt128> {
        guard let data = FileManager.default.contents(atPath: path) else { throw AuditError("cannot read the file") }
        let bytes = [UInt8](data)
        var ids = Set<UInt128>()
        try bytes.withUnsafeBytes { raw in
            let layout = try SegmentObjectReader.open(raw)
            for dataset in layout.datasets where dataset.format == .services {
                guard let section = dataset.section(.profiles) else { continue }
                let table = try ProfilesParquetReader.read(UnsafeRawBufferPointer(rebasing: raw[section.range]))
                ids.formUnion(table.columns.ids)
            }
        }
        return ids
    }

    static func hex(_ id: UInt128) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 32 - digits.count) + digits
    }

    struct AuditError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
