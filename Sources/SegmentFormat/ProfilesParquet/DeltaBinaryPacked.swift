import BinaryCoding

/// DELTA_BINARY_PACKED (profiles-parquet.md §5.2): blocks of 128 deltas in 4 miniblocks of 32.
enum DeltaBinaryPacked {
    static let blockSize = 128
    static let miniblocks = 4
    static let miniblockSize = 32

    /// Decodes one delta stream and appends its values to `out`. The header's count must not exceed
    /// `maxCount` (the caller's bound from the page), so a forged count cannot allocate.
    static func decode(_ r: inout ByteReader, maxCount: Int, into out: inout [Int64]) throws(DecodeError) {
        let start = r.offset
        let blockSize = try r.readLength(limit: 1 << 16)
        let miniblockCount = try r.readLength(limit: 1 << 10)
        let total = try r.readLength(limit: maxCount)
        var value = try r.readVarint()
        guard blockSize > 0, blockSize % 128 == 0, miniblockCount > 0, blockSize % miniblockCount == 0,
              (blockSize / miniblockCount) % 32 == 0 else {
            throw DecodeError(.malformed, at: start, "delta block \(blockSize) with \(miniblockCount) miniblocks")
        }
        if total == 0 { return }
        let perMiniblock = blockSize / miniblockCount
        out.append(value)
        var left = total - 1
        while left > 0 {
            let blockStart = r.offset
            let minDelta = try r.readVarint()
            let widths = try r.readBytes(miniblockCount)
            for m in 0 ..< miniblockCount where left > 0 {
                let width = Int(widths[m])
                guard width <= 64 else {
                    throw DecodeError(.malformed, at: blockStart, "miniblock bit width \(width)")
                }
                let bytes = try r.readBytes(perMiniblock * width / 8)
                let n = min(perMiniblock, left)
                for k in 0 ..< n {
                    let delta = unpackWide(bytes, index: k, bitWidth: width)
                    value = value &+ minDelta &+ Int64(bitPattern: delta)
                    out.append(value)
                }
                left -= n
            }
        }
    }

    /// Value `index` of an LSB-first packed run of `bitWidth`-bit values (up to 64 bits).
    @inline(__always)
    private static func unpackWide(_ bytes: UnsafeRawBufferPointer, index: Int, bitWidth: Int) -> UInt64 {
        if bitWidth == 0 { return 0 }
        var v: UInt64 = 0
        var got = 0
        var pos = index * bitWidth
        while got < bitWidth {
            let shift = pos & 7
            let byte = UInt64(bytes[pos >> 3]) >> UInt64(shift)
            v |= got < 64 ? byte << UInt64(got) : 0
            got += 8 - shift
            pos += 8 - shift
        }
        return bitWidth == 64 ? v : v & ((1 << UInt64(bitWidth)) - 1)
    }

    // MARK: Encoding

    /// Encodes `values` with parquet-go's block padding rule so page bodies match Pyroscope byte for
    /// byte: the block is zero-padded before deltas are taken, the minimum includes the padding
    /// deltas, and padding is reset to 0 afterwards. `bits32` wraps arithmetic at 32 bits (INT32).
    /// `scratch` must hold 128 entries; it is reused across blocks and pages.
    static func encode(_ values: UnsafeBufferPointer<Int64>, bits32: Bool, scratch: inout [UInt64], into w: inout ByteWriter) {
        precondition(scratch.count >= blockSize)
        w.appendUvarint(UInt64(blockSize))
        w.appendUvarint(UInt64(miniblocks))
        w.appendUvarint(UInt64(values.count))
        w.appendVarint(values.isEmpty ? 0 : values[0])
        if values.count < 2 { return }
        var previous = values[0]
        var i = 1
        while i < values.count {
            let n = min(blockSize, values.count - i)
            var minDelta = Int64.max
            for k in 0 ..< blockSize {
                let current = k < n ? values[i + k] : 0
                var delta = current &- previous
                if bits32 { delta = Int64(Int32(truncatingIfNeeded: delta)) }
                scratch[k] = UInt64(bitPattern: delta)
                minDelta = min(minDelta, delta)
                previous = current
            }
            for k in 0 ..< blockSize {
                if k < n {
                    let d = Int64(bitPattern: scratch[k]) &- minDelta
                    scratch[k] = bits32 ? UInt64(UInt32(truncatingIfNeeded: d)) : UInt64(bitPattern: d)
                } else {
                    scratch[k] = 0
                }
            }
            w.appendVarint(minDelta)
            for m in 0 ..< miniblocks { w.append(UInt8(miniblockWidth(scratch, m))) }
            for m in 0 ..< miniblocks {
                let b = miniblockWidth(scratch, m)
                if b != 0 { packWide(scratch, from: m * miniblockSize, count: miniblockSize, bitWidth: b, into: &w) }
            }
            previous = values[i + n - 1]
            i += n
        }
    }

    private static func miniblockWidth(_ deltas: [UInt64], _ m: Int) -> Int {
        var bits: UInt64 = 0
        for k in m * miniblockSize ..< (m + 1) * miniblockSize { bits |= deltas[k] }
        return HybridRLE.bitLength(bits)
    }

    /// LSB-first packing of values up to 64 bits wide, fed to the accumulator 32 bits at a time.
    private static func packWide(_ values: [UInt64], from start: Int, count: Int, bitWidth: Int, into w: inout ByteWriter) {
        var acc: UInt64 = 0
        var bits = 0
        for k in start ..< start + count {
            var v = values[k]
            var left = bitWidth
            while left > 0 {
                let take = min(left, 32)
                acc |= (v & ((1 << UInt64(take)) - 1)) << UInt64(bits)
                bits += take
                v >>= UInt64(take)
                left -= take
                while bits >= 8 {
                    w.append(UInt8(truncatingIfNeeded: acc))
                    acc >>= 8
                    bits -= 8
                }
            }
        }
        if bits > 0 { w.append(UInt8(truncatingIfNeeded: acc)) }
    }
}
