import BinaryCoding

/// HPACK header block decoder (RFC 7541 §3, §6). Every failure is a connection error of type
/// COMPRESSION_ERROR (RFC 9113 §4.3): the shared table state can no longer be trusted.
public struct HPACKDecoder {
    private(set) var table: HPACKDynamicTable
    /// Our SETTINGS_HEADER_TABLE_SIZE: the largest size update a peer may ask for (§6.3).
    public var maxTableSizeLimit: Int
    /// Our SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2), counted as §4.1 entry sizes.
    public var maxHeaderListSize: Int

    public init(maxTableSize: Int = 4096, maxHeaderListSize: Int = 65_536) {
        table = HPACKDynamicTable(maxSize: maxTableSize)
        maxTableSizeLimit = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize
    }

    public var dynamicTableSize: Int { table.size }
    public var dynamicTableEntries: [HeaderField] { (0..<table.count).map { table[newestFirst: $0] } }

    /// Decodes one complete header block. Returns `nil` when the decoded list exceeds
    /// `maxHeaderListSize`: the block is still decoded to the end so the table stays in step.
    public mutating func decode(_ block: UnsafeRawBufferPointer) throws(HTTP2ProtocolError) -> [HeaderField]? {
        var r = ByteReader(block)
        var fields: [HeaderField] = []
        var listSize = 0
        var exceeded = false
        var sawField = false
        while !r.isAtEnd {
            let first = r.bytes[r.offset]
            let field: HeaderField
            if first & 0x80 != 0 {                      // §6.1 indexed field
                field = try lookup(try HPACKPrimitive.readInteger(&r, prefixBits: 7))
            } else if first & 0xc0 == 0x40 {            // §6.2.1 literal with incremental indexing
                field = try readLiteral(&r, prefixBits: 6)
                table.insert(field)
            } else if first & 0xe0 == 0x20 {            // §6.3 dynamic table size update
                if sawField { throw .connection(.compressionError, "HPACK size update after a header field") }
                let size = try HPACKPrimitive.readInteger(&r, prefixBits: 5)
                guard size <= maxTableSizeLimit else {
                    throw .connection(.compressionError, "HPACK size update \(size) above limit \(maxTableSizeLimit)")
                }
                table.setMaxSize(size)
                continue
            } else {                                    // §6.2.2 without indexing, §6.2.3 never indexed
                field = try readLiteral(&r, prefixBits: 4)
            }
            sawField = true
            listSize += field.hpackSize
            if listSize > maxHeaderListSize { exceeded = true }
            if !exceeded { fields.append(field) }
        }
        return exceeded ? nil : fields
    }

    private func lookup(_ index: Int) throws(HTTP2ProtocolError) -> HeaderField {
        let statics = HPACKStaticTable.entries.count
        if index >= 1 && index <= statics { return HPACKStaticTable.entries[index - 1] }
        if index > statics && index - statics - 1 < table.count { return table[newestFirst: index - statics - 1] }
        throw .connection(.compressionError, "HPACK index \(index) out of range")
    }

    private func readLiteral(_ r: inout ByteReader, prefixBits: Int) throws(HTTP2ProtocolError) -> HeaderField {
        let nameIndex = try HPACKPrimitive.readInteger(&r, prefixBits: prefixBits)
        // A string is bounded by the block, itself bounded by the connection's header-block
        // limit. The list-size limit is applied per field after decoding, so an oversized
        // field costs the stream, not the connection.
        let limit = r.remaining
        let name = nameIndex == 0 ? try HPACKPrimitive.readString(&r, limit: limit) : try lookup(nameIndex).name
        let value = try HPACKPrimitive.readString(&r, limit: limit)
        return HeaderField(name, value)
    }
}
