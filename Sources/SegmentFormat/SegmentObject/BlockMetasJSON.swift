import BinaryCoding
import Foundation

/// Metadata as the metastore exports it in protojson (`block-metas.json` beside the golden
/// segments, whose objects carry no trailer: segment-object.md §13). Cold path, tests and tools.
public enum BlockMetasJSON {
    /// The `blocks` array of a `{"blocks": [...]}` document.
    public static func parse(_ data: Data) throws(DecodeError) -> [BlockMeta] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DecodeError(.malformed, at: 0, "not JSON: \(error)")
        }
        guard let object = root as? [String: Any], let blocks = object["blocks"] as? [Any] else {
            throw DecodeError(.malformed, at: 0, "expected an object with a \"blocks\" array")
        }
        var metas: [BlockMeta] = []
        for (i, block) in blocks.enumerated() {
            do {
                metas.append(try blockMeta(block))
            } catch {
                throw DecodeError(.malformed, at: 0, "blocks[\(i)]: \(error.message)")
            }
        }
        return metas
    }

    private static func blockMeta(_ any: Any) throws(DecodeError) -> BlockMeta {
        let o = try JSONFields(any)
        var m = BlockMeta()
        m.formatVersion = try o.integer("formatVersion", "format_version") ?? 0
        m.id = ByteString(try o.string("id") ?? "")
        m.tenant = try o.integer("tenant") ?? 0
        m.shard = try o.integer("shard") ?? 0
        m.compactionLevel = try o.integer("compactionLevel", "compaction_level") ?? 0
        m.minTimeMs = try o.integer("minTime", "min_time") ?? 0
        m.maxTimeMs = try o.integer("maxTime", "max_time") ?? 0
        m.createdBy = try o.integer("createdBy", "created_by") ?? 0
        m.size = try o.integer("size") ?? 0
        for ds in try o.array("datasets") { m.datasets.append(try datasetMeta(ds)) }
        for s in try o.array("stringTable", "string_table") {
            guard let s = s as? String else { throw DecodeError(.malformed, at: 0, "stringTable entry is not a string") }
            m.stringTable.append(ByteString(s))
        }
        m.metadataOffset = try o.integer("metadataOffset", "metadata_offset") ?? 0
        return m
    }

    private static func datasetMeta(_ any: Any) throws(DecodeError) -> DatasetMeta {
        let o = try JSONFields(any)
        var d = DatasetMeta()
        d.tenant = try o.integer("tenant") ?? 0
        d.name = try o.integer("name") ?? 0
        d.minTimeMs = try o.integer("minTime", "min_time") ?? 0
        d.maxTimeMs = try o.integer("maxTime", "max_time") ?? 0
        d.tableOfContents = try o.array("tableOfContents", "table_of_contents").map { v throws(DecodeError) in try integer(v, "tableOfContents") }
        d.size = try o.integer("size") ?? 0
        d.labels = try o.array("labels").map { v throws(DecodeError) in try integer(v, "labels") }
        d.format = try o.integer("format") ?? 0
        return d
    }

    /// protojson writes 64-bit integers as strings and 32-bit ones as numbers; accept both.
    fileprivate static func integer<T: FixedWidthInteger>(_ v: Any, _ key: String) throws(DecodeError) -> T {
        if let s = v as? String, let x = T(s) { return x }
        if let n = v as? NSNumber, let x = T(exactly: n.int64Value), n.int64Value.description == n.stringValue { return x }
        if let n = v as? NSNumber, let x = T(exactly: n.uint64Value), n.uint64Value.description == n.stringValue { return x }
        throw DecodeError(.malformed, at: 0, "\(key): \(v) is not a \(T.self)")
    }
}

/// An object's fields under their protojson (lowerCamel) or proto names.
private struct JSONFields {
    let fields: [String: Any]

    init(_ any: Any) throws(DecodeError) {
        guard let f = any as? [String: Any] else { throw DecodeError(.malformed, at: 0, "expected an object") }
        fields = f
    }

    func value(_ keys: [String]) -> Any? {
        for k in keys { if let v = fields[k], !(v is NSNull) { return v } }
        return nil
    }

    func integer<T: FixedWidthInteger>(_ keys: String...) throws(DecodeError) -> T? {
        guard let v = value(keys) else { return nil }
        return try BlockMetasJSON.integer(v, keys[0])
    }

    func string(_ keys: String...) throws(DecodeError) -> String? {
        guard let v = value(keys) else { return nil }
        guard let s = v as? String else { throw DecodeError(.malformed, at: 0, "\(keys[0]) is not a string") }
        return s
    }

    func array(_ keys: String...) throws(DecodeError) -> [Any] {
        guard let v = value(keys) else { return [] }
        guard let a = v as? [Any] else { throw DecodeError(.malformed, at: 0, "\(keys[0]) is not an array") }
        return a
    }
}
