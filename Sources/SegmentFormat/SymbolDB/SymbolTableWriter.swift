import BinaryCoding
import ProfilesParquet

/// Encodes the four symbol tables of one partition (symdb.md §5), reusing its column buffers
/// from block to block and table to table.
struct SymbolTableWriter {
    private var ints32: [Int32] = []
    private var ints64: [Int64] = []
    /// Byte 4 of the strings block header, never written by upstream and so left over from the
    /// encoder's scratch buffer (§5.1); starts at 0 for each partition.
    private var stringsScratchByte: UInt8 = 0
    /// Section start: table offsets are relative to it.
    private let base: Int

    init(base: Int) {
        self.base = base
        ints32.reserveCapacity(2 * SymbolDBLayout.symbolsBlockSize)
        ints64.reserveCapacity(SymbolDBLayout.symbolsBlockSize)
    }

    // MARK: Tables

    mutating func writeStrings(_ p: SymbolPartitionColumns, into w: inout ByteWriter) -> SymbolTableHeader {
        writeTable(.strings, count: p.stringCount, into: &w) { this, range, w in
            this.writeStringsBlock(p, range, into: &w)
        }
    }

    mutating func writeMappings(_ items: [SymbolMapping], into w: inout ByteWriter) -> SymbolTableHeader {
        writeTable(.mappings, count: items.count, into: &w) { this, range, w in
            this.writeMappingsBlock(items[range], into: &w)
        }
    }

    mutating func writeFunctions(_ items: [SymbolFunction], into w: inout ByteWriter) -> SymbolTableHeader {
        writeTable(.functions, count: items.count, into: &w) { this, range, w in
            this.writeFunctionsBlock(items[range], into: &w)
        }
    }

    mutating func writeLocations(_ p: SymbolPartitionColumns, into w: inout ByteWriter) -> SymbolTableHeader {
        writeTable(.locations, count: p.locationCount, into: &w) { this, range, w in
            this.writeLocationsBlock(p, range, into: &w)
        }
    }

    /// Splits a table into blocks of 1024 items; an empty table is 0 bytes with CRC 0 (§4.3).
    private mutating func writeTable(
        _ kind: SymbolTableKind, count: Int, into w: inout ByteWriter,
        block: (inout SymbolTableWriter, Range<Int>, inout ByteWriter) -> Void
    ) -> SymbolTableHeader {
        let start = w.count
        var i = 0
        while i < count {
            let end = min(i + SymbolDBLayout.symbolsBlockSize, count)
            block(&self, i ..< end, &w)
            i = end
        }
        precondition(count <= Int(UInt32.max) && w.count - start <= Int(UInt32.max), "symbol table too large")
        return SymbolTableHeader(
            offset: UInt64(start - base), size: UInt32(w.count - start), crc: w.crc32c(start ..< w.count),
            length: UInt32(count), blockSize: UInt32(SymbolDBLayout.symbolsBlockSize),
            blockHeaderSize: UInt16(kind.blockHeaderSize), format: kind.format)
    }

    // MARK: Blocks

    /// §5.1: u8 or big-endian u16 lengths, then the bytes.
    private mutating func writeStringsBlock(_ p: SymbolPartitionColumns, _ block: Range<Int>, into w: inout ByteWriter) {
        var longest = 0
        for i in block { longest = max(longest, p.stringRange(i).count) }
        let wide = longest > 255
        let first = block.lowerBound
        if !wide, block.count >= 5 {
            stringsScratchByte = UInt8(truncatingIfNeeded: p.stringRange(first + 4).count)
        } else if wide, block.count >= 3 {
            stringsScratchByte = UInt8(truncatingIfNeeded: UInt16(truncatingIfNeeded: p.stringRange(first + 2).count) >> 8)
        }
        let header = w.count
        w.appendBE32(UInt32(block.count))
        w.append(stringsScratchByte)
        w.append(wide ? 16 : 8)
        w.appendZeros(2)
        w.appendBE32(w.crc32c(header ..< header + 8))
        // Upstream truncates data to 65535 bytes but stores the length mod 65536 (§3.5); mimicked.
        if wide {
            for i in block { w.appendBE16(UInt16(truncatingIfNeeded: p.stringRange(i).count)) }
        } else {
            w.append(contentsOf: block.lazy.map { UInt8(p.stringRange($0).count) })
        }
        p.stringBytes.withUnsafeBytes { bytes in
            if longest <= Int(UInt16.max) {
                // Strings are back to back: the block's bytes are one range.
                w.append(UnsafeRawBufferPointer(rebasing: bytes[p.stringRange(first).lowerBound ..< p.stringRange(block.upperBound - 1).upperBound]))
            } else {
                for i in block {
                    let r = p.stringRange(i)
                    w.append(UnsafeRawBufferPointer(rebasing: bytes[r.lowerBound ..< r.lowerBound + min(r.count, Int(UInt16.max))]))
                }
            }
        }
    }

    /// §5.2: eight u32 (count, six column sizes, CRC), then the columns; memory columns per block.
    private mutating func writeMappingsBlock(_ block: ArraySlice<SymbolMapping>, into w: inout ByteWriter) {
        let header = beginBlockHeader(count: block.count, fields: 6, into: &w)
        writeColumn32(0, of: header, block, into: &w) { Int32(bitPattern: $0.filename) }
        writeColumn32(1, of: header, block, into: &w) { Int32(bitPattern: $0.buildID) }
        writeColumn32(2, of: header, block, into: &w) { $0.flags }
        writeOptionalColumn64(3, of: header, block, into: &w) { Int64(bitPattern: $0.memoryStart) }
        writeOptionalColumn64(4, of: header, block, into: &w) { Int64(bitPattern: $0.memoryLimit) }
        writeOptionalColumn64(5, of: header, block, into: &w) { Int64(bitPattern: $0.fileOffset) }
        endBlockHeader(header, fields: 6, into: &w)
    }

    /// §5.3: six u32 (count, four column sizes, CRC), then the four columns.
    private mutating func writeFunctionsBlock(_ block: ArraySlice<SymbolFunction>, into w: inout ByteWriter) {
        let header = beginBlockHeader(count: block.count, fields: 4, into: &w)
        writeColumn32(0, of: header, block, into: &w) { Int32(bitPattern: $0.name) }
        writeColumn32(1, of: header, block, into: &w) { Int32(bitPattern: $0.systemName) }
        writeColumn32(2, of: header, block, into: &w) { Int32(bitPattern: $0.filename) }
        writeColumn32(3, of: header, block, into: &w) { Int32(bitPattern: $0.startLine) }
        endBlockHeader(header, fields: 4, into: &w)
    }

    /// §5.4: seven u32 (count, mapping size, lines_len, lines size, addr size, folded size, CRC).
    private mutating func writeLocationsBlock(_ p: SymbolPartitionColumns, _ block: Range<Int>, into w: inout ByteWriter) {
        let header = beginBlockHeader(count: block.count, fields: 5, into: &w)
        writeColumn32(0, of: header, p.locationMapping[block], into: &w) { Int32(bitPattern: $0) }
        // Counts are stored mod 256 but at most 255 lines are written (§3.5); mimicked.
        let countsAt = w.count
        w.appendZeros(block.count)
        var lines = 0
        w.bytes.withUnsafeMutableBufferPointer { bytes in
            for (k, i) in block.enumerated() {
                bytes[countsAt + k] = UInt8(truncatingIfNeeded: p.locationLineCount[i])
                lines += min(Int(p.locationLineCount[i]), 255)
            }
        }
        Self.refill(&ints32, count: 2 * lines) { out in
            var k = 0
            for i in block {
                let start = Int(p.locationLineStart[i])
                for j in start ..< start + min(Int(p.locationLineCount[i]), 255) {
                    out[k] = Int32(bitPattern: p.lineFunction[j])
                    out[k + 1] = p.lineNumber[j]
                    k += 2
                }
            }
        }
        setField(1, of: header, lines, into: &w)
        setField(2, of: header, appendInts32(into: &w), into: &w)
        Self.refill(&ints64, count: block.count) { out in
            for (k, i) in block.enumerated() { out[k] = Int64(bitPattern: p.locationAddress[i]) }
        }
        setField(3, of: header, appendOptionalInts64(into: &w), into: &w)
        if p.locationFolded[block].contains(true) {
            // §5.5: Go's `1 << i & 7` means only slots 0 to 2 can set a bit, all in byte 0.
            let foldedSize = block.count / 8 + 1
            var firstByte: UInt8 = 0
            for (i, folded) in p.locationFolded[block].prefix(3).enumerated() where folded {
                firstByte |= 1 << UInt8(i)
            }
            w.append(firstByte)
            w.appendZeros(foldedSize - 1)
            setField(4, of: header, foldedSize, into: &w)
        }
        endBlockHeader(header, fields: 5, into: &w)
    }

    // MARK: Helpers

    /// Appends the count and room for `fields` u32 fields and the CRC; returns the header start.
    private func beginBlockHeader(count: Int, fields: Int, into w: inout ByteWriter) -> Int {
        let header = w.count
        w.appendBE32(UInt32(count))
        w.appendZeros(4 * (fields + 1))
        return header
    }

    /// Patches u32 field `k` (after the count) of the block header at `header`.
    /// One int32 column of a block: gathered into the reused scratch, encoded, its size recorded.
    @inline(__always)
    private mutating func writeColumn32<Element>(
        _ field: Int, of header: Int, _ block: ArraySlice<Element>, into w: inout ByteWriter, _ value: (Element) -> Int32
    ) {
        Self.refill(&ints32, count: block.count) { out in
            for (k, e) in block.enumerated() { out[k] = value(e) }
        }
        setField(field, of: header, appendInts32(into: &w), into: &w)
    }

    /// One optional int64 column (omitted when all zero, §5.2).
    @inline(__always)
    private mutating func writeOptionalColumn64<Element>(
        _ field: Int, of header: Int, _ block: ArraySlice<Element>, into w: inout ByteWriter, _ value: (Element) -> Int64
    ) {
        Self.refill(&ints64, count: block.count) { out in
            for (k, e) in block.enumerated() { out[k] = value(e) }
        }
        setField(field, of: header, appendOptionalInts64(into: &w), into: &w)
    }

    /// Makes `scratch` `count` elements long (its capacity kept) and lets `fill` write them all:
    /// appending through a lazy map went element by element through an iterator.
    @inline(__always)
    private static func refill<T: FixedWidthInteger>(_ scratch: inout [T], count: Int,
                                                      _ fill: (UnsafeMutableBufferPointer<T>) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: repeatElement(0, count: count))
        scratch.withUnsafeMutableBufferPointer { fill($0) }
    }

    private func setField(_ k: Int, of header: Int, _ value: Int, into w: inout ByteWriter) {
        precondition(value <= Int(UInt32.max), "symbol block column too large")
        w.setBE32(UInt32(value), at: header + 4 + 4 * k)
    }

    /// The header's last field: CRC-32C of everything before it.
    private func endBlockHeader(_ header: Int, fields: Int, into w: inout ByteWriter) {
        let crcAt = header + 4 + 4 * fields
        w.setBE32(w.crc32c(header ..< crcAt), at: crcAt)
    }

    /// Appends `ints32` as a DBP32 column; returns its size.
    private func appendInts32(into w: inout ByteWriter) -> Int {
        let start = w.count
        ints32.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
        return w.count - start
    }

    /// Appends `ints64` as a DBP64 column only if some value is non-zero (§5.2, §5.4); returns its size.
    private func appendOptionalInts64(into w: inout ByteWriter) -> Int {
        guard ints64.contains(where: { $0 != 0 }) else { return 0 }
        let start = w.count
        ints64.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &w) }
        return w.count - start
    }
}
