import BinaryCoding

/// HPACK header block encoder (RFC 7541 §6).
public struct HPACKEncoder {
    /// §6.2: how a literal field is represented.
    public enum Indexing: Sendable { case incremental, none, never }
    public enum HuffmanPolicy: Sendable { case always, never, whenShorter }

    private(set) var table: HPACKDynamicTable
    public var huffman: HuffmanPolicy
    /// Upper bound we choose for our table, whatever the peer allows.
    public let tableSizeCap: Int
    /// Size updates owed at the start of the next block (§4.2): the smallest, then the final.
    private var pendingUpdates: [Int] = []

    public init(maxTableSize: Int = 4096, huffman: HuffmanPolicy = .whenShorter) {
        table = HPACKDynamicTable(maxSize: maxTableSize)
        tableSizeCap = maxTableSize
        self.huffman = huffman
    }

    public var dynamicTableSize: Int { table.size }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE changed.
    public mutating func setPeerMaxTableSize(_ peerMax: Int) {
        let size = min(peerMax, tableSizeCap)
        if let smallest = pendingUpdates.first, smallest <= size {
            pendingUpdates = [smallest, size]
        } else {
            pendingUpdates = [size]
        }
        table.setMaxSize(size)
    }

    /// Encodes a whole block with incremental indexing for every literal.
    public mutating func encode(_ fields: [HeaderField], into w: inout ByteWriter) {
        beginBlock(into: &w)
        for f in fields { encode(f, indexing: .incremental, into: &w) }
    }

    /// Emits size updates owed by `setPeerMaxTableSize`; call once before a block's fields.
    public mutating func beginBlock(into w: inout ByteWriter) {
        var last = -1
        for size in pendingUpdates where size != last {
            HPACKPrimitive.appendInteger(size, prefixBits: 5, firstByte: 0x20, into: &w)
            last = size
        }
        pendingUpdates.removeAll()
    }

    public mutating func encode(_ field: HeaderField, indexing: Indexing, into w: inout ByteWriter) {
        let statics = HPACKStaticTable.entries
        var nameIndex = 0
        for i in 0..<statics.count where statics[i].name == field.name {
            if statics[i].value == field.value && indexing != .never {
                HPACKPrimitive.appendInteger(i + 1, prefixBits: 7, firstByte: 0x80, into: &w)
                return
            }
            if nameIndex == 0 { nameIndex = i + 1 }
        }
        let dynamic = table.find(field)
        if let exact = dynamic.exact, indexing != .never {
            HPACKPrimitive.appendInteger(statics.count + 1 + exact, prefixBits: 7, firstByte: 0x80, into: &w)
            return
        }
        if nameIndex == 0, let n = dynamic.name { nameIndex = statics.count + 1 + n }
        switch indexing {
        case .incremental: HPACKPrimitive.appendInteger(nameIndex, prefixBits: 6, firstByte: 0x40, into: &w)
        case .none: HPACKPrimitive.appendInteger(nameIndex, prefixBits: 4, firstByte: 0x00, into: &w)
        case .never: HPACKPrimitive.appendInteger(nameIndex, prefixBits: 4, firstByte: 0x10, into: &w)
        }
        if nameIndex == 0 { appendString(field.name, into: &w) }
        appendString(field.value, into: &w)
        if indexing == .incremental { table.insert(field) }
    }

    private func appendString(_ s: ByteString, into w: inout ByteWriter) {
        let useHuffman: Bool
        switch huffman {
        case .always: useHuffman = true
        case .never: useHuffman = false
        case .whenShorter: useHuffman = HPACKHuffman.encodedCount(s.bytes) < s.count
        }
        HPACKPrimitive.appendString(s, huffman: useHuffman, into: &w)
    }
}
