import BinaryCoding

/// `metastore.v1.IndexService/GetBlockMetadata` (segment-object.md §11.1): which of a shard's
/// blocks the metastore holds. The request names them in a `BlockList{tenant = 1, shard = 2,
/// blocks = 3}` (a segment's tenant is the empty string: it is multi-tenant); the answer is the
/// metadata of those found, `repeated BlockMeta blocks = 1`, in no promised order.
public enum BlockMetadataQuery {
    /// The `GetBlockMetadataRequest{1: BlockList}` body.
    public static func request(tenant: String = "", shard: UInt32, blocks: [String]) -> [UInt8] {
        var w = ByteWriter()
        w.appendMessageField(1) { list in
            if !tenant.isEmpty { list.appendStringField(1, tenant) }
            if shard != 0 { list.appendVarintField(2, UInt64(shard)) }
            for block in blocks { list.appendStringField(3, block) }
        }
        return w.bytes
    }

    /// The blocks of a `GetBlockMetadataResponse` body; unknown fields are skipped.
    public static func blocks(inResponse bytes: UnsafeRawBufferPointer) throws(DecodeError) -> [BlockMeta] {
        var p = ProtobufReader(bytes)
        var blocks: [BlockMeta] = []
        while let (number, wire) = try p.nextField() {
            guard number == 1 else { try p.skip(wire); continue }
            try p.expect(wire, .lengthDelimited, field: number)
            let body = try p.readLengthDelimited()
            do {
                blocks.append(try BlockMeta(decoding: body))
            } catch {
                throw error.inRegion("block \(blocks.count)", base: p.offset - body.count)
            }
        }
        return blocks
    }
}
