import BinaryCoding
import ProfilesParquet

/// Decodes the four symbol tables of one partition (symdb.md §5), checking the table CRC, every
/// block-header CRC, the per-block counts, exact consumption of every size, and every reference.
struct SymbolTableReader {
    /// The data region (everything before the index); table offsets index into it.
    let data: UnsafeRawBufferPointer
    private var ints32: [Int32] = []
    private var lines32: [Int32] = []
    private var ints64: [Int64] = []
    /// The block header size of the table being read (§5: `max(minimum, declared)`).
    private var blockHeaderSize = 0
    /// Table-relative start of the block being read: the offset reported for bad references.
    private var currentBlock = 0

    init(data: UnsafeRawBufferPointer) {
        self.data = data
    }

    // MARK: Tables

    mutating func readStrings(_ h: SymbolTableHeader) throws(DecodeError) -> [ByteString] {
        var out: [ByteString] = []
        try readTable(.strings, h, minimumItemBytes: 1, into: &out) { (this: inout SymbolTableReader, r: inout ByteReader, n: Int, out: inout [ByteString]) throws(DecodeError) in
            try this.readStringsBlock(&r, count: n, into: &out)
        }
        return out
    }

    mutating func readMappings(_ h: SymbolTableHeader, stringCount: Int) throws(DecodeError) -> [SymbolMapping] {
        var out: [SymbolMapping] = []
        try readTable(.mappings, h, minimumItemBytes: 0, into: &out) { (this: inout SymbolTableReader, r: inout ByteReader, n: Int, out: inout [SymbolMapping]) throws(DecodeError) in
            try this.readMappingsBlock(&r, count: n, stringCount: stringCount, into: &out)
        }
        return out
    }

    mutating func readFunctions(_ h: SymbolTableHeader, stringCount: Int) throws(DecodeError) -> [SymbolFunction] {
        var out: [SymbolFunction] = []
        try readTable(.functions, h, minimumItemBytes: 0, into: &out) { (this: inout SymbolTableReader, r: inout ByteReader, n: Int, out: inout [SymbolFunction]) throws(DecodeError) in
            try this.readFunctionsBlock(&r, count: n, stringCount: stringCount, into: &out)
        }
        return out
    }

    mutating func readLocations(_ h: SymbolTableHeader, mappingCount: Int, functionCount: Int) throws(DecodeError) -> [SymbolLocation] {
        var out: [SymbolLocation] = []
        // A location has a line-count byte of its own.
        try readTable(.locations, h, minimumItemBytes: 1, into: &out) { (this: inout SymbolTableReader, r: inout ByteReader, n: Int, out: inout [SymbolLocation]) throws(DecodeError) in
            try this.readLocationsBlock(&r, count: n, mappingCount: mappingCount, functionCount: functionCount, into: &out)
        }
        return out
    }

    /// Checks the table framing and CRC, then decodes `length` items in blocks of `block_size`.
    private mutating func readTable<T>(
        _ kind: SymbolTableKind, _ h: SymbolTableHeader, minimumItemBytes: Int, into out: inout [T],
        block: (inout SymbolTableReader, inout ByteReader, Int, inout [T]) throws(DecodeError) -> Void
    ) throws(DecodeError) {
        let bytes: UnsafeRawBufferPointer
        do throws(DecodeError) {
            bytes = try SymbolDBReader.region(offset: h.offset, size: UInt64(h.size), crc: h.crc, in: data, kind.name)
        } catch {
            throw error.inRegion(kind.name + " table")
        }
        do throws(DecodeError) {
            guard h.blockSize > 0 else {
                throw DecodeError(.malformed, at: 0, "block size 0")
            }
            // Upstream reads the CRC at a fixed offset for all but functions (§9), so only functions
            // may declare a larger block header.
            guard kind == .functions || Int(h.blockHeaderSize) <= kind.blockHeaderSize else {
                throw DecodeError(.unsupported, at: 0, "block header size \(h.blockHeaderSize)")
            }
            let length = Int(h.length)
            guard minimumItemBytes == 0 || length <= bytes.count / minimumItemBytes else {
                throw DecodeError(.malformed, at: 0, "\(length) items cannot fit \(bytes.count) bytes")
            }
            // Integer columns can pack many items per byte: reserve no more than the bytes present;
            // each block's columns bound its own count before its items are created.
            out.reserveCapacity(min(length, bytes.count))
            var r = ByteReader(bytes)
            let headerSize = max(kind.blockHeaderSize, Int(h.blockHeaderSize))
            blockHeaderSize = headerSize
            while out.count < length {
                let n = min(Int(h.blockSize), length - out.count)
                let blockStart = r.offset
                let header = try r.readBytes(headerSize)
                try checkBlockHeader(header, at: blockStart)
                var headerReader = ByteReader(header)
                let count = try headerReader.readBE32()
                guard count == UInt32(n) else {
                    throw DecodeError(.malformed, at: blockStart, "block holds \(count) items, expected \(n)")
                }
                r.offset = blockStart
                currentBlock = blockStart
                do throws(DecodeError) {
                    try block(&self, &r, n, &out)
                } catch {
                    throw error.inRegion("block at \(blockStart)")
                }
            }
            guard r.isAtEnd else {
                throw DecodeError(.malformed, at: r.offset, "\(r.remaining) bytes after \(length) items")
            }
        } catch {
            throw error.inRegion(kind.name + " table", base: Int(h.offset))
        }
    }

    /// A block header's last 4 bytes are the CRC of the bytes before them (§5).
    private func checkBlockHeader(_ header: UnsafeRawBufferPointer, at offset: Int) throws(DecodeError) {
        let crcAt = header.count - 4
        var r = ByteReader(header, offset: crcAt)
        let crc = try r.readBE32()
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[..<crcAt])) == crc else {
            throw DecodeError(.checksum, at: offset + crcAt, "block header CRC mismatch")
        }
    }

    // MARK: Blocks (each starts with `r` at the block header, whose CRC and count are checked;
    // error offsets are relative to the table, which `readTable` turns into file offsets)

    /// §5.1.
    private mutating func readStringsBlock(_ r: inout ByteReader, count: Int, into out: inout [ByteString]) throws(DecodeError) {
        let start = r.offset
        try r.skip(5)
        let encoding = try r.readU8()
        try r.seek(to: start + blockHeaderSize)
        guard encoding == 8 || encoding == 16 else {
            throw DecodeError(.malformed, at: start + 5, "string length encoding \(encoding)")
        }
        let lengthBytes = encoding / 8
        let lengths = try r.readBytes(count * Int(lengthBytes))
        for i in 0 ..< count {
            let length = lengthBytes == 1
                ? Int(lengths[i])
                : Int(lengths[2 * i]) << 8 | Int(lengths[2 * i + 1])
            out.append(ByteString(try r.readBytes(length)))
        }
    }

    /// §5.2.
    private mutating func readMappingsBlock(_ r: inout ByteReader, count: Int, stringCount: Int, into out: inout [SymbolMapping]) throws(DecodeError) {
        let sizes = try readBlockSizes(&r, fields: 6)
        try column(&r, sizes[0], count, "filename")
        let first = out.count
        for _ in 0 ..< count { out.append(SymbolMapping()) }
        for i in 0 ..< count { out[first + i].filename = try stringIndex(ints32[i], stringCount, "filename") }
        try column(&r, sizes[1], count, "build_id")
        for i in 0 ..< count { out[first + i].buildID = try stringIndex(ints32[i], stringCount, "build_id") }
        try column(&r, sizes[2], count, "flags")
        for i in 0 ..< count {
            let flags = ints32[i]
            out[first + i].hasFunctions = flags & 8 != 0
            out[first + i].hasFilenames = flags & 4 != 0
            out[first + i].hasLineNumbers = flags & 2 != 0
            out[first + i].hasInlineFrames = flags & 1 != 0
        }
        if try optionalColumn64(&r, sizes[3], count, "memory_start") {
            for i in 0 ..< count { out[first + i].memoryStart = UInt64(bitPattern: ints64[i]) }
        }
        if try optionalColumn64(&r, sizes[4], count, "memory_limit") {
            for i in 0 ..< count { out[first + i].memoryLimit = UInt64(bitPattern: ints64[i]) }
        }
        if try optionalColumn64(&r, sizes[5], count, "file_offset") {
            for i in 0 ..< count { out[first + i].fileOffset = UInt64(bitPattern: ints64[i]) }
        }
    }

    /// §5.3 (the one table whose block header may be larger than its minimum).
    private mutating func readFunctionsBlock(_ r: inout ByteReader, count: Int, stringCount: Int, into out: inout [SymbolFunction]) throws(DecodeError) {
        let sizes = try readBlockSizes(&r, fields: 4)
        try column(&r, sizes[0], count, "name")
        let first = out.count
        for _ in 0 ..< count { out.append(SymbolFunction()) }
        for i in 0 ..< count { out[first + i].name = try stringIndex(ints32[i], stringCount, "name") }
        try column(&r, sizes[1], count, "system_name")
        for i in 0 ..< count { out[first + i].systemName = try stringIndex(ints32[i], stringCount, "system_name") }
        try column(&r, sizes[2], count, "filename")
        for i in 0 ..< count { out[first + i].filename = try stringIndex(ints32[i], stringCount, "filename") }
        try column(&r, sizes[3], count, "start_line")
        for i in 0 ..< count { out[first + i].startLine = UInt32(bitPattern: ints32[i]) }
    }

    /// §5.4, with the is-folded quirk of §5.5.
    private mutating func readLocationsBlock(
        _ r: inout ByteReader, count: Int, mappingCount: Int, functionCount: Int, into out: inout [SymbolLocation]
    ) throws(DecodeError) {
        let sizes = try readBlockSizes(&r, fields: 5)
        let (mappingSize, linesLen, linesSize, addressSize, foldedSize) = (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4])
        try column(&r, mappingSize, count, "mapping_id")
        let lineCountsAt = r.offset
        let lineCounts = try r.readBytes(count)
        let linesAt = r.offset
        let lineBytes = try r.readBytes(linesSize)
        do throws(DecodeError) {
            try DeltaBinaryPacked.decode(lineBytes, count: 2 * linesLen, into: &lines32)
        } catch {
            throw error.inRegion("lines column", base: linesAt)
        }
        let hasAddresses = try optionalColumn64(&r, addressSize, count, "address")
        var foldedByte: UInt8 = 0
        if foldedSize > 0 {
            guard foldedSize == count / 8 + 1 else {
                throw DecodeError(.malformed, at: r.offset, "is-folded bitmap of \(foldedSize) bytes for \(count) locations")
            }
            // §5.5: only bits 0 to 2 of byte 0 are meaningful (`(1 << i) & 7`).
            foldedByte = try r.readBytes(foldedSize)[0] & 7
        }
        var line = 0
        for i in 0 ..< count {
            let mapping = ints32[i]
            guard mapping >= 0, Int(mapping) < max(mappingCount, 1) else {
                throw DecodeError(.malformed, at: currentBlock, "location \(i) references mapping \(mapping) of \(mappingCount)")
            }
            let n = Int(lineCounts[i])
            guard n <= linesLen - line else {
                throw DecodeError(.malformed, at: lineCountsAt + i, "location \(i) lines run past the \(linesLen) stored")
            }
            var location = SymbolLocation(
                mappingID: UInt32(mapping),
                address: hasAddresses ? UInt64(bitPattern: ints64[i]) : 0,
                isFolded: i < 3 && foldedByte & (1 << UInt8(i)) != 0)
            location.lines.reserveCapacity(n)
            for k in line ..< line + n {
                let function = lines32[2 * k]
                guard function >= 0, Int(function) < functionCount else {
                    throw DecodeError(.malformed, at: linesAt, "location \(i) references function \(function) of \(functionCount)")
                }
                location.lines.append(SymbolLine(functionID: UInt32(function), line: lines32[2 * k + 1]))
            }
            line += n
            out.append(location)
        }
    }

    // MARK: Helpers

    /// Skips the count (already checked), reads `fields` u32 fields, then moves past the header.
    private func readBlockSizes(_ r: inout ByteReader, fields: Int) throws(DecodeError) -> [Int] {
        let start = r.offset
        try r.skip(4)
        var sizes: [Int] = []
        sizes.reserveCapacity(fields)
        for _ in 0 ..< fields { sizes.append(Int(try r.readBE32())) }
        try r.seek(to: start + blockHeaderSize)
        return sizes
    }

    /// Decodes a DBP32 column of `count` values from the next `size` bytes into `ints32`.
    private mutating func column(_ r: inout ByteReader, _ size: Int, _ count: Int, _ name: String) throws(DecodeError) {
        let at = r.offset
        let bytes = try r.readBytes(size)
        do throws(DecodeError) {
            try DeltaBinaryPacked.decode(bytes, count: count, into: &ints32)
        } catch {
            throw error.inRegion(name + " column", base: at)
        }
    }

    /// Decodes an optional DBP64 column into `ints64`; false when it is absent (all zero).
    private mutating func optionalColumn64(_ r: inout ByteReader, _ size: Int, _ count: Int, _ name: String) throws(DecodeError) -> Bool {
        guard size > 0 else { return false }
        let at = r.offset
        let bytes = try r.readBytes(size)
        do throws(DecodeError) {
            try DeltaBinaryPacked.decode(bytes, count: count, into: &ints64)
        } catch {
            throw error.inRegion(name + " column", base: at)
        }
        return true
    }

    private func stringIndex(_ v: Int32, _ stringCount: Int, _ field: String) throws(DecodeError) -> UInt32 {
        guard v >= 0, Int(v) < stringCount else {
            throw DecodeError(.malformed, at: currentBlock, "\(field) references string \(v) of \(stringCount)")
        }
        return UInt32(v)
    }
}
