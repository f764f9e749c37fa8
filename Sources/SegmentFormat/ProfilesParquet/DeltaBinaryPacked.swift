import BinaryCoding

/// DELTA_BINARY_PACKED as parquet-go writes it: the parquet pages of `profiles.parquet`
/// (profiles-parquet.md §5.2) and the integer columns of `symbols.symdb` (symdb.md §6.1) use this
/// one implementation. Blocks of 128 deltas in 4 miniblocks of 32, LSB-first bit packing.
///
/// Quirk reproduced byte for byte: a short final block is zero-padded before deltas are taken,
/// `min_delta` is taken over all 128 slots, padding included (symdb.md §6.1 step 3), and the
/// padded slots pack as 0.
public enum DeltaBinaryPacked {
    static let blockSize = 128
    static let miniblocks = 4
    static let miniblockSize = 32

    // MARK: Encoding

    /// Appends `values` as one stream with 32-bit arithmetic (an INT32 column).
    public static func encode(_ values: UnsafeBufferPointer<Int32>, into w: inout ByteWriter) {
        encodeStream(values, as: Int32.self, into: &w)
    }

    /// Appends `values` as one stream with 64-bit arithmetic (an INT64 column).
    public static func encode(_ values: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        encodeStream(values, as: Int64.self, into: &w)
    }

    /// Parquet columns keep INT32 values widened to `Int64`: `bits32` encodes them as parquet-go's
    /// int32 encoder does (values and deltas wrap at 32 bits).
    static func encode(_ values: UnsafeBufferPointer<Int64>, bits32: Bool, into w: inout ByteWriter) {
        if bits32 {
            encodeStream(values, as: Int32.self, into: &w)
        } else {
            encodeStream(values, as: Int64.self, into: &w)
        }
    }

    /// `T` is the arithmetic width: values are truncated to it and deltas wrap in it.
    /// Each block's miniblocks are packed in a stack buffer and appended with one copy:
    /// appending word by word to the writer's array checked its capacity and uniqueness per
    /// word (about 110 instructions per value in all; flush-side cost).
    static func encodeStream<V: FixedWidthInteger, T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafeBufferPointer<V>, as _: T.Type, into w: inout ByteWriter
    ) {
        w.appendUvarint(UInt64(blockSize))
        w.appendUvarint(UInt64(miniblocks))
        w.appendUvarint(UInt64(values.count))
        w.appendVarint(values.isEmpty ? 0 : Int64(T(truncatingIfNeeded: values[0])))
        guard values.count >= 2 else { return }
        // A block's packed miniblocks: at most 4 × 32 × 64 bits, 1 KiB (the most
        // `withUnsafeTemporaryAllocation` keeps on the stack; min delta and widths go first, directly).
        let packedBytesMax = miniblocks * miniblockSize * 8
        withUnsafeTemporaryAllocation(of: T.self, capacity: blockSize) { deltas in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: blockSize) { adjusted in
                withUnsafeTemporaryAllocation(byteCount: packedBytesMax, alignment: 8) { block in
                    var previous = T(truncatingIfNeeded: values[0])
                    var start = 1
                    while start < values.count {
                        let filled = min(blockSize, values.count - start)
                        var minDelta = T.max
                        for j in 0 ..< filled {
                            let v = T(truncatingIfNeeded: values[start &+ j])
                            let d = v &- previous
                            deltas[j] = d
                            previous = v
                            if d < minDelta { minDelta = d }
                        }
                        if filled < blockSize {
                            // The padding quirk: zeros after the last value, their deltas in `min_delta`.
                            for j in filled ..< blockSize {
                                let d = 0 &- previous
                                deltas[j] = d
                                previous = 0
                                if d < minDelta { minDelta = d }
                            }
                        }
                        for j in 0 ..< filled {
                            adjusted[j] = UInt64(truncatingIfNeeded: T.Magnitude(truncatingIfNeeded: deltas[j] &- minDelta))
                        }
                        for j in filled ..< blockSize { adjusted[j] = 0 }
                        w.appendVarint(Int64(minDelta))
                        var widths = SIMD4<Int32>() // one per miniblock
                        for m in 0 ..< miniblocks {
                            widths[m] = Int32(miniblockWidth(adjusted, m))
                            w.append(UInt8(widths[m]))
                        }
                        var at = BlockWriter(base: block.baseAddress!)
                        for m in 0 ..< miniblocks where widths[m] > 0 {
                            pack(adjusted, miniblock: m, width: Int(widths[m]), into: &at)
                        }
                        w.append(UnsafeRawBufferPointer(start: block.baseAddress, count: at.offset))
                        start += filled
                    }
                }
            }
        }
    }

    /// Appends into the stack buffer of a block's packed miniblocks (sized for the widest).
    private struct BlockWriter {
        let base: UnsafeMutableRawPointer
        var offset = 0

        @inline(__always)
        mutating func appendLE64(_ v: UInt64) {
            base.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }

        @inline(__always)
        mutating func appendLE32(_ v: UInt32) {
            base.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }
    }

    @inline(__always)
    private static func miniblockWidth(_ adjusted: UnsafeMutableBufferPointer<UInt64>, _ m: Int) -> Int {
        var union: UInt64 = 0
        for j in m * miniblockSize ..< (m + 1) * miniblockSize { union |= adjusted[j] }
        return 64 - union.leadingZeroBitCount
    }

    /// LSB-first packing of one miniblock's 32 values of `width` bits: `4 × width` bytes, written
    /// 8 at a time (the last 4 when `width` is odd).
    @inline(__always)
    private static func pack(_ adjusted: UnsafeMutableBufferPointer<UInt64>, miniblock m: Int, width: Int,
                             into w: inout BlockWriter) {
        var word: UInt64 = 0
        var bits = 0
        for j in m * miniblockSize ..< (m + 1) * miniblockSize {
            let v = adjusted[j]
            word |= v << UInt64(bits)
            bits += width
            if bits >= 64 {
                w.appendLE64(word)
                bits -= 64
                // The bits of `v` that did not fit (`v >> (width - bits)`; none when bits is 0).
                word = bits == 0 ? 0 : v >> UInt64(width - bits)
            }
        }
        if bits > 0 { w.appendLE32(UInt32(truncatingIfNeeded: word)) }
    }

    // MARK: Decoding

    /// Decodes the stream at `r` (inside a parquet page) and appends its values to `out`. The
    /// header's count must not exceed `maxCount`, the caller's bound from the page, so a forged
    /// count cannot allocate.
    static func decode(_ r: inout ByteReader, maxCount: Int, into out: inout [Int64]) throws(DecodeError) {
        let header = try StreamHeader(&r, maxCount: maxCount)
        try decodeBlocks(&r, header, into: &out)
    }

    /// Decodes a column of exactly `count` values that must fill `bytes` exactly; `out` is replaced.
    public static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [Int32]) throws(DecodeError) {
        try decodeColumn(bytes, count: count, into: &out)
    }

    /// Decodes a column of exactly `count` values that must fill `bytes` exactly; `out` is replaced.
    public static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [Int64]) throws(DecodeError) {
        try decodeColumn(bytes, count: count, into: &out)
    }

    static func decodeColumn<T: FixedWidthInteger & SignedInteger>(
        _ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [T]
    ) throws(DecodeError) {
        var r = ByteReader(bytes)
        let header = try StreamHeader(&r, maxCount: count)
        guard header.total == count else {
            throw DecodeError(.malformed, at: header.totalAt, "column holds \(header.total) values, expected \(count)")
        }
        guard count > 0 || header.first == 0 else {
            throw DecodeError(.malformed, at: header.firstAt, "first value \(header.first) in an empty column")
        }
        out.removeAll(keepingCapacity: true)
        try decodeBlocks(&r, header, into: &out)
        guard r.isAtEnd else {
            throw DecodeError(.malformed, at: r.offset, "\(r.remaining) bytes after \(count) values")
        }
    }

    /// The stream header: block size, miniblocks per block, value count, first value.
    struct StreamHeader {
        var valuesPerMiniblock: Int
        var miniblockCount: Int
        var total: Int
        var totalAt: Int
        var first: Int64
        var firstAt: Int

        init(_ r: inout ByteReader, maxCount: Int) throws(DecodeError) {
            let start = r.offset
            let blockSize = try r.readLength(limit: 1 << 16)
            miniblockCount = try r.readLength(limit: 1 << 10)
            totalAt = r.offset
            total = try r.readLength(limit: maxCount)
            firstAt = r.offset
            first = try r.readVarint()
            guard blockSize > 0, blockSize % 128 == 0, miniblockCount > 0, blockSize % miniblockCount == 0,
                  (blockSize / miniblockCount) % 32 == 0 else {
                throw DecodeError(.malformed, at: start, "delta block \(blockSize) with \(miniblockCount) miniblocks")
            }
            valuesPerMiniblock = blockSize / miniblockCount
        }
    }

    /// Appends the `header.total` values whose blocks follow at `r`, with `T`'s wrapping arithmetic.
    static func decodeBlocks<T: FixedWidthInteger & SignedInteger>(
        _ r: inout ByteReader, _ header: StreamHeader, into out: inout [T]
    ) throws(DecodeError) {
        guard let first = T(exactly: header.first) else {
            throw DecodeError(.malformed, at: header.firstAt, "first value \(header.first) out of range")
        }
        guard header.total > 0 else { return }
        // Each block costs at least its min delta and widths: bound the reservation by the bytes left.
        let blockValues = header.valuesPerMiniblock * header.miniblockCount
        let blocks = (header.total - 1 + blockValues - 1) / blockValues
        guard blocks <= r.remaining / (1 + header.miniblockCount) else {
            throw DecodeError(.truncated, at: r.offset,
                              "\(header.total) values need \(blocks) blocks, \(r.remaining) bytes left")
        }
        // Reserved only into an empty array: a parquet column appends page after page, and an
        // exact reservation per page would reallocate on every page instead of growing geometrically.
        if out.isEmpty { out.reserveCapacity(header.total) }
        out.append(first)
        var value = first
        var left = header.total - 1
        while left > 0 {
            let minAt = r.offset
            let minDeltaWide = try r.readVarint()
            guard let minDelta = T(exactly: minDeltaWide) else {
                throw DecodeError(.malformed, at: minAt, "min delta \(minDeltaWide) out of range")
            }
            let widthsAt = r.offset
            let widths = try r.readBytes(header.miniblockCount)
            for m in 0 ..< header.miniblockCount where left > 0 {
                let width = Int(widths[m])
                guard width <= T.bitWidth else {
                    throw DecodeError(.malformed, at: widthsAt + m, "miniblock bit width \(width) exceeds \(T.bitWidth)")
                }
                var unpacker = BitUnpacker(try r.readBytes(header.valuesPerMiniblock * width / 8), width: width)
                let n = min(header.valuesPerMiniblock, left)
                for _ in 0 ..< n {
                    value = value &+ minDelta &+ T(truncatingIfNeeded: unpacker.next())
                    out.append(value)
                }
                left -= n
            }
        }
    }
}

/// Reads `width`-bit values LSB-first from a packed run.
struct BitUnpacker {
    let bytes: UnsafeRawBufferPointer
    let width: Int
    var position = 0
    var current: UInt64 = 0
    var currentBits = 0

    init(_ bytes: UnsafeRawBufferPointer, width: Int) {
        self.bytes = bytes
        self.width = width
    }

    mutating func next() -> UInt64 {
        var value: UInt64 = 0
        var got = 0
        while got < width {
            if currentBits == 0 {
                current = UInt64(bytes[position])
                position += 1
                currentBits = 8
            }
            let take = min(width - got, currentBits)
            value |= (current & ((1 << UInt64(take)) - 1)) << UInt64(got)
            current >>= UInt64(take)
            currentBits -= take
            got += take
        }
        return value
    }
}
