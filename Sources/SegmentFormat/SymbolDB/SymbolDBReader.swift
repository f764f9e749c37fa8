import BinaryCoding

/// Reads a whole `symbols.symdb` v3 section (symdb.md §4, §7): verifies the footer, the index and
/// every table and chunk CRC, decodes every block, and checks every reference and the tree shape.
public enum SymbolDBReader {
    public static func read(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> SymbolDBContents {
        let indexOffset = try readFooter(bytes)
        let index = UnsafeRawBufferPointer(rebasing: bytes[indexOffset ..< bytes.count - SymbolDBLayout.footerSize])
        let headers: [IndexedPartition]
        do throws(DecodeError) {
            headers = try readIndex(index)
        } catch {
            throw error.inRegion("index", base: indexOffset)
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[..<indexOffset])
        var partitions: [SymbolPartition] = []
        partitions.reserveCapacity(headers.count)
        var previousKey: UInt64?
        for header in headers {
            if let previousKey, previousKey >= header.key {
                throw DecodeError(.malformed, at: indexOffset, "partition keys not ascending at \(header.key)")
            }
            previousKey = header.key
            do throws(DecodeError) {
                partitions.append(try readPartition(header, data: data))
            } catch {
                throw error.inRegion("partition \(header.key)")
            }
        }
        return SymbolDBContents(partitions: partitions)
    }

    struct IndexedChunk {
        var offset: UInt64
        var size: UInt64
        var blockIndex: UInt16
        var encoding: UInt8
        var counters: SymbolStackChunk
        var maxNodes: UInt32
        var crc: UInt32
        var headerOffset: Int
    }

    struct IndexedPartition {
        var key: UInt64
        var chunks: [IndexedChunk]
        var tables: [SymbolTableKind: SymbolTableHeader]
    }

    /// §4.1. Returns the index offset.
    private static func readFooter(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> Int {
        let footerSize = SymbolDBLayout.footerSize
        guard bytes.count >= footerSize else {
            throw DecodeError(.truncated, at: 0, "\(bytes.count) bytes cannot hold the 24-byte footer")
        }
        let at = bytes.count - footerSize
        var r = ByteReader(bytes, offset: at)
        let magic = try r.readBE32()
        let version = try r.readBE32()
        let indexOffset = try r.readBE64()
        try r.skip(4)
        let crc = try r.readBE32()
        guard magic == SymbolDBLayout.magic else {
            throw DecodeError(.malformed, at: at, "footer magic \(hex(magic)), not sym1").inRegion("footer")
        }
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[at ..< at + 20])) == crc else {
            throw DecodeError(.checksum, at: at + 20, "footer CRC mismatch").inRegion("footer")
        }
        guard version == SymbolDBLayout.version else {
            throw DecodeError(.unsupported, at: at + 4, "symdb version \(version), only 3 is supported").inRegion("footer")
        }
        let minimumIndex = SymbolDBLayout.indexHeaderSize + SymbolDBLayout.tocSize + 4 + SymbolDBLayout.crcSize
        guard indexOffset <= UInt64(at), at - Int(indexOffset) >= minimumIndex else {
            throw DecodeError(.malformed, at: at + 8, "index offset \(indexOffset) leaves no room for an index before \(at)")
                .inRegion("footer")
        }
        return Int(indexOffset)
    }

    /// §4.2, §4.3.
    private static func readIndex(_ index: UnsafeRawBufferPointer) throws(DecodeError) -> [IndexedPartition] {
        let crcAt = index.count - SymbolDBLayout.crcSize
        var r = ByteReader(index, offset: crcAt)
        let crc = try r.readBE32()
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: index[..<crcAt])) == crc else {
            throw DecodeError(.checksum, at: crcAt, "index CRC mismatch")
        }
        r = ByteReader(UnsafeRawBufferPointer(rebasing: index[..<crcAt]))
        let magic = try r.readBE32()
        guard magic == SymbolDBLayout.magic else {
            throw DecodeError(.malformed, at: 0, "index magic \(hex(magic)), not sym1")
        }
        let version = try r.readBE32()
        guard version == SymbolDBLayout.version else {
            throw DecodeError(.unsupported, at: 4, "index version \(version), only 3 is supported")
        }
        try r.skip(8)
        let blobSize = try r.readBE64()
        let blobOffset = try r.readBE64()
        let expectedOffset = SymbolDBLayout.indexHeaderSize + SymbolDBLayout.tocSize
        guard blobOffset == UInt64(expectedOffset), blobSize == UInt64(crcAt - expectedOffset) else {
            throw DecodeError(.malformed, at: 16, "TOC (size \(blobSize), offset \(blobOffset)) does not frame the \(crcAt - expectedOffset)-byte partition headers")
        }
        let count = Int(try r.readBE32())
        let minimumHeader = SymbolDBLayout.partitionHeaderFixedSize + 4 * SymbolDBLayout.symbolsHeaderSize
        guard count <= r.remaining / minimumHeader else {
            throw DecodeError(.malformed, at: r.offset - 4, "\(count) partitions cannot fit \(r.remaining) bytes")
        }
        var partitions: [IndexedPartition] = []
        partitions.reserveCapacity(count)
        for _ in 0 ..< count {
            partitions.append(try readPartitionHeader(&r))
        }
        guard r.isAtEnd else {
            throw DecodeError(.malformed, at: r.offset, "\(r.remaining) bytes after the partition headers")
        }
        return partitions
    }

    private static func readPartitionHeader(_ r: inout ByteReader) throws(DecodeError) -> IndexedPartition {
        let key = try r.readBE64()
        let chunkCount = Int(try r.readBE32())
        guard chunkCount <= r.remaining / SymbolDBLayout.stackChunkHeaderSize else {
            throw DecodeError(.malformed, at: r.offset - 4, "\(chunkCount) stack chunks cannot fit \(r.remaining) bytes")
        }
        var partition = IndexedPartition(key: key, chunks: [], tables: [:])
        partition.chunks.reserveCapacity(chunkCount)
        for _ in 0 ..< chunkCount {
            let at = r.offset
            let offset = try r.readBE64()
            let size = try r.readBE64()
            let chunkKey = try r.readBE64()
            let blockIndex = try r.readBE16()
            try r.skip(1)
            let encoding = try r.readU8()
            try r.skip(4)
            let stacktraces = try r.readBE32()
            let nodes = try r.readBE32()
            let maxDepth = try r.readBE32()
            let maxNodes = try r.readBE32()
            try r.skip(12)
            let crc = try r.readBE32()
            guard chunkKey == key else {
                throw DecodeError(.malformed, at: at + 16, "stack chunk of partition \(chunkKey) under partition \(key)")
            }
            partition.chunks.append(IndexedChunk(
                offset: offset, size: size, blockIndex: blockIndex, encoding: encoding,
                counters: SymbolStackChunk(nodeCount: nodes, stacktraces: stacktraces, maxDepth: maxDepth),
                maxNodes: maxNodes, crc: crc, headerOffset: at))
        }
        for kind in [SymbolTableKind.locations, .mappings, .functions, .strings] {
            let at = r.offset
            let header = SymbolTableHeader(
                offset: try r.readBE64(), size: try r.readBE32(), crc: try r.readBE32(),
                length: try r.readBE32(), blockSize: try r.readBE32(),
                blockHeaderSize: try r.readBE16(), format: try r.readBE16())
            try r.skip(SymbolDBLayout.symbolsHeaderSize - SymbolDBLayout.symbolsHeaderUsedSize)
            guard header.format == kind.format else {
                throw DecodeError(.unsupported, at: at + 26, "\(kind.name) table format \(header.format), expected \(kind.format)")
            }
            partition.tables[kind] = header
        }
        return partition
    }

    private static func readPartition(_ header: IndexedPartition, data: UnsafeRawBufferPointer) throws(DecodeError) -> SymbolPartition {
        var tables = SymbolTableReader(data: data)
        var partition = SymbolPartition(key: header.key)
        partition.strings = try tables.readStrings(header.tables[.strings]!)
        partition.mappings = try tables.readMappings(header.tables[.mappings]!, stringCount: partition.strings.count)
        partition.functions = try tables.readFunctions(header.tables[.functions]!, stringCount: partition.strings.count)
        partition.locations = try tables.readLocations(
            header.tables[.locations]!, mappingCount: partition.mappings.count, functionCount: partition.functions.count)
        try readStackChunks(header.chunks, data: data, into: &partition)
        return partition
    }

    /// §6.2, §7: each chunk an independent tree; `ID = block_index · max_nodes + local`.
    private static func readStackChunks(_ chunks: [IndexedChunk], data: UnsafeRawBufferPointer, into p: inout SymbolPartition) throws(DecodeError) {
        guard let first = chunks.first else {
            throw DecodeError(.malformed, at: 0, "partition has no stack chunk")
        }
        p.maxNodesPerChunk = first.maxNodes
        p.stackParents = []
        p.stackLocations = []
        p.stackChunks = []
        for (i, chunk) in chunks.enumerated() {
            let at = chunk.headerOffset
            guard chunk.encoding == SymbolDBLayout.treeEncoding else {
                throw DecodeError(.unsupported, at: at + 27, "stack chunk encoding \(chunk.encoding)")
            }
            guard chunk.blockIndex == UInt16(truncatingIfNeeded: i), chunk.maxNodes == first.maxNodes, chunk.maxNodes > 0,
                  chunk.counters.nodeCount <= chunk.maxNodes else {
                throw DecodeError(.malformed, at: at, "stack chunk \(i): block index \(chunk.blockIndex), \(chunk.counters.nodeCount) nodes, max_nodes \(chunk.maxNodes)")
            }
            let bytes = try region(offset: chunk.offset, size: chunk.size, crc: chunk.crc, in: data, "stack chunk \(i)")
            do throws(DecodeError) {
                try StackTreeCodec.decode(
                    bytes, nodeCount: Int(chunk.counters.nodeCount), locationCount: p.locations.count,
                    parents: &p.stackParents, locations: &p.stackLocations)
            } catch {
                throw error.inRegion("stack chunk \(i)", base: Int(chunk.offset))
            }
            p.stackChunks.append(chunk.counters)
        }
    }

    /// The bytes `[offset, offset + size)` of the data region, after checking their CRC.
    static func region(
        offset: UInt64, size: UInt64, crc: UInt32, in data: UnsafeRawBufferPointer, _ name: String
    ) throws(DecodeError) -> UnsafeRawBufferPointer {
        guard offset <= UInt64(data.count), size <= UInt64(data.count) - offset else {
            throw DecodeError(.malformed, at: 0, "\(name) [\(offset), +\(size)) outside the \(data.count)-byte data region")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: data[Int(offset) ..< Int(offset + size)])
        guard CRC32C.checksum(bytes) == crc else {
            throw DecodeError(.checksum, at: Int(offset), "\(name) CRC mismatch")
        }
        return bytes
    }

    static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
}
