import BinaryCoding

/// Writes a `symbols.symdb` v3 section byte-exact with Pyroscope (symdb.md §4): per partition the
/// strings, mappings, functions and locations tables and the stack chunks, then the index and
/// the footer. Offsets are relative to `w.count` at entry.
public enum SymbolDBWriter {
    public static func write(_ contents: SymbolDBContents, into w: inout ByteWriter) {
        write(contents.partitions.map(SymbolPartitionColumns.init), into: &w)
    }

    /// The same from partitions in column form (what a head flushes without per-symbol copies).
    public static func write(_ partitions: [SymbolPartitionColumns], into w: inout ByteWriter) {
        let base = w.count
        var headers: [PartitionHeader] = []
        headers.reserveCapacity(partitions.count)
        var previousKey: UInt64?
        for partition in partitions {
            precondition(previousKey.map { $0 < partition.key } ?? true, "partitions must be in ascending key order")
            precondition(partition.isConsistent, "symbol partition columns disagree in length")
            previousKey = partition.key
            headers.append(writePartitionData(partition, base: base, into: &w))
        }
        let indexOffset = w.count - base
        writeIndex(headers, into: &w)
        writeFooter(indexOffset: indexOffset, into: &w)
    }

    struct ChunkHeader {
        var offset: Int
        var size: Int
        var blockIndex: UInt16
        var counters: SymbolStackChunk
        var crc: UInt32
    }

    struct PartitionHeader {
        var key: UInt64
        var maxNodes: UInt32
        var chunks: [ChunkHeader]
        var tables: [SymbolTableKind: SymbolTableHeader]
    }

    private static func writePartitionData(_ p: SymbolPartitionColumns, base: Int, into w: inout ByteWriter) -> PartitionHeader {
        precondition(p.stackParents.count == p.stackLocations.count, "stack node columns differ in length")
        precondition(p.stackChunks.reduce(0) { $0 + Int($1.nodeCount) } == p.stackParents.count,
                     "stack chunks do not cover the nodes")
        precondition(p.stackChunks.count <= Int(UInt16.max) + 1, "too many stack chunks")
        var tables = SymbolTableWriter(base: base)
        var header = PartitionHeader(key: p.key, maxNodes: p.maxNodesPerChunk, chunks: [], tables: [:])
        // §4: data in the order strings, mappings, functions, locations, then the tree.
        header.tables[.strings] = tables.writeStrings(p, into: &w)
        header.tables[.mappings] = tables.writeMappings(p.mappings, into: &w)
        header.tables[.functions] = tables.writeFunctions(p.functions, into: &w)
        header.tables[.locations] = tables.writeLocations(p, into: &w)
        var firstNode = 0
        for (index, chunk) in p.stackChunks.enumerated() {
            let start = w.count
            let nodes = firstNode ..< firstNode + Int(chunk.nodeCount)
            StackTreeCodec.encode(parents: p.stackParents, locations: p.stackLocations, range: nodes, into: &w)
            header.chunks.append(ChunkHeader(
                offset: start - base, size: w.count - start, blockIndex: UInt16(index),
                counters: chunk, crc: w.crc32c(start ..< w.count)))
            firstNode = nodes.upperBound
        }
        return header
    }

    /// §4.2: header, TOC (size before offset), partition headers, CRC.
    private static func writeIndex(_ partitions: [PartitionHeader], into w: inout ByteWriter) {
        let start = w.count
        w.appendBE32(SymbolDBLayout.magic)
        w.appendBE32(SymbolDBLayout.version)
        w.appendZeros(8)
        let blobSize = 4 + partitions.reduce(0) {
            $0 + SymbolDBLayout.partitionHeaderFixedSize + SymbolDBLayout.stackChunkHeaderSize * $1.chunks.count
                + 4 * SymbolDBLayout.symbolsHeaderSize
        }
        w.appendBE64(UInt64(blobSize))
        w.appendBE64(UInt64(SymbolDBLayout.indexHeaderSize + SymbolDBLayout.tocSize))
        w.appendBE32(UInt32(partitions.count))
        for p in partitions {
            w.appendBE64(p.key)
            w.appendBE32(UInt32(p.chunks.count))
            for chunk in p.chunks { writeChunkHeader(chunk, key: p.key, maxNodes: p.maxNodes, into: &w) }
            // §4.3: headers in the order locations, mappings, functions, strings.
            for kind in [SymbolTableKind.locations, .mappings, .functions, .strings] {
                writeTableHeader(p.tables[kind]!, into: &w)
            }
        }
        w.appendBE32(w.crc32c(start ..< w.count))
    }

    private static func writeChunkHeader(_ c: ChunkHeader, key: UInt64, maxNodes: UInt32, into w: inout ByteWriter) {
        w.appendBE64(UInt64(c.offset))
        w.appendBE64(UInt64(c.size))
        w.appendBE64(key)
        w.appendBE16(c.blockIndex)
        w.append(0)
        w.append(SymbolDBLayout.treeEncoding)
        w.appendZeros(4)
        w.appendBE32(c.counters.stacktraces)
        w.appendBE32(c.counters.nodeCount)
        w.appendBE32(c.counters.maxDepth)
        w.appendBE32(maxNodes)
        w.appendZeros(12)
        w.appendBE32(c.crc)
    }

    private static func writeTableHeader(_ h: SymbolTableHeader, into w: inout ByteWriter) {
        w.appendBE64(h.offset)
        w.appendBE32(h.size)
        w.appendBE32(h.crc)
        w.appendBE32(h.length)
        w.appendBE32(h.blockSize)
        w.appendBE16(h.blockHeaderSize)
        w.appendBE16(h.format)
        w.appendZeros(SymbolDBLayout.symbolsHeaderSize - SymbolDBLayout.symbolsHeaderUsedSize)
    }

    /// §4.1: magic, version, index offset, 4 reserved bytes, CRC of the first 20 bytes.
    private static func writeFooter(indexOffset: Int, into w: inout ByteWriter) {
        let start = w.count
        w.appendBE32(SymbolDBLayout.magic)
        w.appendBE32(SymbolDBLayout.version)
        w.appendBE64(UInt64(indexOffset))
        w.appendZeros(4)
        w.appendBE32(w.crc32c(start ..< w.count))
    }
}
