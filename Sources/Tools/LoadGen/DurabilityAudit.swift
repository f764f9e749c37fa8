import BinaryCoding
import ObjectStorage
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
/// object in the server's bucket (filesystem or S3) is read back with our own readers, and the
/// `ID` column of each dataset's profiles table (a push's `profile_id` on every row it made,
/// profiles-parquet.md §2) is compared with what the run sent and what it was told OK for. Run
/// it once every push was answered: a server loadgen started, after its drain; a running one,
/// at once (what it answered OK is durable already).
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
    /// Sent by this run and in more than one object: one push is one dataset of one segment.
    public var duplicated: Int
    /// Sent, not acknowledged OK (an error, or unanswered by the drain deadline), stored anyway:
    /// allowed (the client would retry), reported.
    public var storedUnacknowledged: Int
    /// Objects our readers refuse, with the reason.
    public var unreadable: [String]
    /// Up to five lost ids (32 hex digits), to look for.
    public var lostExamples: [String]
    /// Whether each object's metadata was looked for: in the bucket's DLQ (where the writer
    /// puts it without a metastore, segment-object.md §10.5) and, with a metastore, there first.
    public var metadataChecked: Bool
    /// Whether the metastore was asked which objects it holds (`GetBlockMetadata`).
    public var metastoreChecked: Bool
    /// Objects the metastore holds (ULID, shard and size as in the bucket).
    public var registeredInMetastore: Int
    /// Objects neither the metastore holds nor a DLQ record (`dlq/{shard}/anonymous/{ULID}/meta.pb`
    /// naming their ULID, shard and size) describes: invisible to Pyroscope.
    public var unregistered: Int
    /// Those of them holding a push this run was told OK for: a broken promise (the others'
    /// pushes were answered with an error, and their client retries).
    public var unregisteredAcknowledged: Int
    /// DLQ records without their object.
    public var orphanMetadata: Int
    /// Whether other clients may push to the same writer (a running `--target`): then `unknown`
    /// ids are others' pushes and do not fail the audit. A corrupted id still does, as the id
    /// it was is then `lost`.
    public var othersMayPush: Bool
    /// Nothing lost, duplicated, unreadable, unknown (unless others may push), no object holding
    /// an acknowledged push unregistered, no orphaned DLQ record (when metadata is checked).
    public var passed: Bool

    /// Where the writer's objects are registered, so where the audit looks for their metadata.
    public enum Metadata {
        /// Not looked for.
        case unchecked
        /// The bucket's DLQ only (a writer without a metastore).
        case deadLetterQueue
        /// The metastore, else the DLQ (AddBlock failed): `registered` takes the objects and
        /// returns what the metastore holds of them, `BucketObject.segment` → size.
        case metastore(registered: ([BucketObject]) throws(AuditError) -> [String: UInt64])
    }

    /// Throws when the bucket cannot be listed or the metastore cannot be asked (nothing could
    /// be judged); an object that cannot be read or decoded is `unreadable`. Objects and DLQ
    /// records whose ULID time (the segment's open time) is before `openedSinceUnixMs` are left
    /// out: earlier runs' segments in a bucket that outlives a run.
    public static func check(bucket: any ListableObjectStore, ledger: AuditLedger, metadata: Metadata,
                             openedSinceUnixMs: UInt64 = 0, othersMayPush: Bool = false) throws(AuditError) -> DurabilityAudit {
        let sent = Set(ledger.sent)
        let acked = Set(ledger.acked)
        var objectsHolding: [UInt128: Int] = [:]
        var sizes: [String: Int] = [:]
        var holdsAcknowledged: Set<String> = []
        var unreadable: [String] = []
        let objects = try storage { () throws(StorageError) in try BucketObjects.list(bucket).filter { opened($0, since: openedSinceUnixMs) } }
        for object in objects {
            do {
                let bytes = try BucketObjects.read(bucket, object.path)
                sizes[object.path] = bytes.count
                let ids = try profileIDs(bytes)
                for id in ids { objectsHolding[id, default: 0] += 1 }
                if !ids.isDisjoint(with: acked) { holdsAcknowledged.insert(object.path) }
            } catch {
                unreadable.append("\(object.path): \(error)")
            }
        }
        let lost = acked.filter { objectsHolding[$0] == nil }
        let unknown = objectsHolding.keys.filter { !sent.contains($0) }.count
        let duplicated = objectsHolding.filter { $0.value > 1 && sent.contains($0.key) }.count
        var registered: [String: UInt64] = [:]
        func heldByMetastore(_ object: BucketObject) -> Bool {
            guard let size = sizes[object.path] else { return false }
            return registered[object.segment] == UInt64(size)
        }
        var unregistered: [BucketObject] = [], orphans = 0
        var metadataChecked = false, metastoreChecked = false
        switch metadata {
        case .unchecked:
            break
        case .deadLetterQueue, .metastore:
            if case .metastore(let lookUp) = metadata {
                registered = try lookUp(objects)
                metastoreChecked = true
            }
            metadataChecked = true
            let records = try storage { () throws(StorageError) in
                try BucketObjects.list(bucket, top: "dlq", file: "meta.pb").filter { opened($0, since: openedSinceUnixMs) }
            }
            unregistered = objects.filter { !heldByMetastore($0) && !describes(bucket, $0, size: sizes[$0.path]) }
            let segments = Set(objects.map(\.segment))
            orphans = records.filter { !segments.contains($0.segment) }.count
        }
        let unregisteredAcknowledged = unregistered.filter { holdsAcknowledged.contains($0.path) }.count
        let inMetastore = objects.filter(heldByMetastore).count
        return DurabilityAudit(
            sent: sent.count, acked: acked.count, objects: objects.count, storedProfiles: objectsHolding.count,
            lost: lost.count, unknown: unknown, duplicated: duplicated,
            storedUnacknowledged: objectsHolding.keys.filter { sent.contains($0) && !acked.contains($0) }.count,
            unreadable: unreadable, lostExamples: lost.sorted().prefix(5).map(hex),
            metadataChecked: metadataChecked, metastoreChecked: metastoreChecked, registeredInMetastore: inMetastore,
            unregistered: unregistered.count, unregisteredAcknowledged: unregisteredAcknowledged,
            orphanMetadata: orphans, othersMayPush: othersMayPush,
            passed: lost.isEmpty && (unknown == 0 || othersMayPush) && duplicated == 0 && unreadable.isEmpty
                && unregisteredAcknowledged == 0 && orphans == 0)
    }

    private static func storage<T>(_ body: () throws(StorageError) -> T) throws(AuditError) -> T {
        do { return try body() } catch { throw .bucket(error) }
    }

    /// Whether the object's segment opened at `since` or later; a folder name that is no ULID
    /// is kept (the readers then judge the object).
    static func opened(_ object: BucketObject, since: UInt64) -> Bool {
        guard since > 0, let ulid = try? ULID(parsing: Array(object.ulid.utf8)) else { return true }
        return ulid.timeMs >= since
    }

    /// Whether the object's DLQ record is there and names it: its ULID, its shard, its size
    /// (`size`: the object's, nil when it could not be read).
    static func describes(_ bucket: any ListableObjectStore, _ object: BucketObject, size: Int?) -> Bool {
        guard let size, let bytes = try? BucketObjects.read(bucket, "dlq/\(object.shard)/anonymous/\(object.ulid)/meta.pb"),
              let meta = try? bytes.withUnsafeBytes({ raw throws(DecodeError) in try BlockMeta(decoding: raw) })
        else { return false }
        return meta.id.description == object.ulid && String(meta.shard) == object.shard && meta.size == UInt64(size)
    }

    /// The distinct ids of every service dataset's profiles table in one object.
    static func profileIDs(_ bytes: [UInt8]) throws -> Set<UInt128> {
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
}

/// Why an audit could not judge anything.
public enum AuditError: Error, CustomStringConvertible {
    /// The bucket could not be listed or read.
    case bucket(StorageError)
    /// The metastore could not be asked which objects it holds.
    case metastore(String)

    public var description: String {
        switch self {
        case .bucket(let error): return "reading the bucket: \(error)"
        case .metastore(let why): return "asking the metastore: \(why)"
        }
    }
}
