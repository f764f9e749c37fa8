import BinaryCoding

/// The metadata trailer at the end of an object (segment-object.md §4):
/// `BlockMeta` protobuf (N bytes) | be32 N | be32 CRC-32C over the protobuf and N.
/// No magic, no version.
public enum MetadataTrailer {
    /// Bytes after the protobuf.
    public static let footerBytes = 8

    /// Appends the trailer at the writer's end (§4.3): `metadataOffset` becomes the current
    /// offset and `size` is left out of the encoding. Returns the metadata as registered with
    /// the metastore, i.e. with `size` = the object length.
    public static func append(_ meta: BlockMeta, to w: inout ByteWriter) -> BlockMeta {
        var meta = meta
        meta.metadataOffset = UInt64(w.count)
        meta.size = 0
        let start = w.count
        meta.encode(into: &w)
        let n = w.count - start
        precondition(n <= Int(UInt32.max), "metadata larger than 4 GiB")
        w.appendBE32(UInt32(n))
        w.appendBE32(w.crc32c(start ..< w.count))
        meta.size = UInt64(w.count)
        return meta
    }

    /// Reads the trailer of a whole object (§4.2) and sets `size` to its length.
    public static func read(_ object: UnsafeRawBufferPointer) throws(DecodeError) -> BlockMeta {
        let (meta, _) = try readLocated(object)
        return meta
    }

    /// The metadata and the offset `M` where its protobuf starts.
    public static func readLocated(_ object: UnsafeRawBufferPointer) throws(DecodeError) -> (BlockMeta, Int) {
        let length = object.count
        guard length > footerBytes else {
            throw DecodeError(.truncated, at: 0, "object of \(length) bytes has no metadata trailer").inRegion("trailer")
        }
        var r = ByteReader(object, offset: length - footerBytes)
        let n = Int(try r.readBE32())
        let crc = try r.readBE32()
        guard n <= length - footerBytes else {
            throw DecodeError(.malformed, at: length - footerBytes, "metadata length \(n) exceeds the object (\(length) bytes)")
                .inRegion("trailer")
        }
        let m = length - footerBytes - n
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: object[m ..< length - 4]))
        guard actual == crc else {
            throw DecodeError(.checksum, at: length - 4, "invalid CRC: stored \(hex(crc)), computed \(hex(actual)) over [\(m), \(length - 4))")
                .inRegion("trailer")
        }
        var meta: BlockMeta
        do {
            meta = try BlockMeta(decoding: UnsafeRawBufferPointer(rebasing: object[m ..< m + n]))
        } catch {
            throw error.inRegion("metadata", base: m)
        }
        meta.size = UInt64(length)
        return (meta, m)
    }

    private static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}

extension BlockMeta {
    /// The DLQ `meta.pb` (segment-object.md §10.5, §12): the raw protobuf including `size`,
    /// no trailer, no CRC.
    public func dlqObject() -> [UInt8] {
        precondition(size != 0, "DLQ metadata must carry the object size")
        return encoded()
    }

    /// The body of `metastore.v1.AddBlockRequest{1: block}` (§5.3, §11.1).
    public func addBlockRequest() -> [UInt8] {
        precondition(size != 0, "AddBlock metadata must carry the object size")
        let n = encodedSize
        var w = ByteWriter(capacity: n + 6)
        w.appendTag(1, .lengthDelimited)
        w.appendUvarint(UInt64(n))
        encode(into: &w)
        return w.bytes
    }
}

extension BlockMeta {
    /// Decodes an `AddBlockRequest` body (what a metastore receives). Repeated `block` fields
    /// merge as protobuf says, which equals decoding their concatenation; unknown fields are
    /// skipped. A request without a block is malformed.
    public init(decodingAddBlockRequest bytes: UnsafeRawBufferPointer) throws(DecodeError) {
        var p = ProtobufReader(bytes)
        var bodies: [(offset: Int, bytes: UnsafeRawBufferPointer)] = []
        while let (number, wire) = try p.nextField() {
            guard number == 1 else { try p.skip(wire); continue }
            try p.expect(wire, .lengthDelimited, field: number)
            let body = try p.readLengthDelimited()
            bodies.append((p.offset - body.count, body))
        }
        guard let first = bodies.first else { throw DecodeError(.malformed, at: 0, "AddBlockRequest without a block") }
        do {
            if bodies.count == 1 {
                self = try BlockMeta(decoding: first.bytes)
            } else {
                let merged = bodies.flatMap { Array($0.bytes) }
                self = try merged.withUnsafeBytes { raw in
                    Result { () throws(DecodeError) in try BlockMeta(decoding: raw) }
                }.get()
            }
        } catch {
            throw error.inRegion("block", base: first.offset)
        }
    }
}

/// `metastore.v1.IndexService` method paths (§11.1).
public enum MetastoreMethod {
    public static let addBlock = "/metastore.v1.IndexService/AddBlock"
    public static let getBlockMetadata = "/metastore.v1.IndexService/GetBlockMetadata"
}
