import BinaryCoding

/// parquet-go's DELTA_BINARY_PACKED integer columns (symdb.md §6.1): blocks of 128 values in
/// 4 mini-blocks of 32, LSB-first bit packing.
///
/// Quirk reproduced byte for byte: a short final block is padded with zeros and `min_delta` is
/// taken over all 128 slots, padding included (§6.1 step 3), while the padded slots pack as 0.
public enum DeltaBinaryPacked {
    static let blockValues = 128
    static let miniBlocks = 4
    static let miniBlockValues = 32

    public static func encode(_ values: UnsafeBufferPointer<Int32>, into w: inout ByteWriter) {
        encodeColumn(values, into: &w)
    }

    public static func encode(_ values: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        encodeColumn(values, into: &w)
    }

    /// Decodes a column of exactly `count` values that must fill `bytes` exactly; `out` is replaced.
    public static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [Int32]) throws(DecodeError) {
        try decodeColumn(bytes, count: count, into: &out)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [Int64]) throws(DecodeError) {
        try decodeColumn(bytes, count: count, into: &out)
    }

    // MARK: Encoding

    static func encodeColumn<T: FixedWidthInteger & SignedInteger>(_ values: UnsafeBufferPointer<T>, into w: inout ByteWriter) {
        w.appendUvarint(UInt64(blockValues))
        w.appendUvarint(UInt64(miniBlocks))
        w.appendUvarint(UInt64(values.count))
        w.appendVarint(values.isEmpty ? 0 : Int64(values[0]))
        guard values.count >= 2 else { return }
        withUnsafeTemporaryAllocation(of: T.self, capacity: blockValues) { deltas in
            var prev = values[0]
            var start = 1
            while start < values.count {
                let filled = min(blockValues, values.count - start)
                var minDelta = T.max
                for j in 0 ..< blockValues {
                    let v = j < filled ? values[start + j] : 0
                    let d = v &- prev
                    deltas[j] = d
                    prev = v
                    if d < minDelta { minDelta = d }
                }
                w.appendVarint(Int64(minDelta))
                // The 4 bit widths go out first; the packed mini-blocks read them back from `w`.
                let widthsAt = w.count
                for m in 0 ..< miniBlocks {
                    var union: UInt64 = 0
                    let lower = m * miniBlockValues
                    for j in lower ..< max(lower, min(lower + miniBlockValues, filled)) {
                        union |= UInt64(truncatingIfNeeded: T.Magnitude(truncatingIfNeeded: deltas[j] &- minDelta))
                    }
                    w.append(UInt8(64 - union.leadingZeroBitCount))
                }
                for m in 0 ..< miniBlocks {
                    let width = Int(w.bytes[widthsAt + m])
                    guard width > 0 else { continue }
                    var packer = BitPacker(width: width)
                    for j in m * miniBlockValues ..< (m + 1) * miniBlockValues {
                        // Padded slots pack as 0 although they took part in `minDelta` (§6.1 step 4).
                        let adjusted = j < filled
                            ? UInt64(truncatingIfNeeded: T.Magnitude(truncatingIfNeeded: deltas[j] &- minDelta)) : 0
                        packer.append(adjusted, into: &w)
                    }
                }
                start += filled
            }
        }
    }

    // MARK: Decoding

    static func decodeColumn<T: FixedWidthInteger & SignedInteger>(
        _ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [T]
    ) throws(DecodeError) {
        var r = ByteReader(bytes)
        let blockSize = try r.readUvarint()
        let miniBlockCount = try r.readUvarint()
        guard blockSize == UInt64(blockValues), miniBlockCount == UInt64(miniBlocks) else {
            throw DecodeError(.unsupported, at: 0, "block size \(blockSize) with \(miniBlockCount) mini-blocks (want 128/4)")
        }
        let totalAt = r.offset
        let total = try r.readUvarint()
        guard total == UInt64(count) else {
            throw DecodeError(.malformed, at: totalAt, "column holds \(total) values, expected \(count)")
        }
        let firstAt = r.offset
        let first = try r.readVarint()
        guard let firstValue = T(exactly: first), count > 0 || first == 0 else {
            throw DecodeError(.malformed, at: firstAt, "first value \(first) out of range")
        }
        // Each block costs at least 5 bytes (min delta and 4 widths): bound the reservation.
        let blocks = count > 1 ? (count - 1 + blockValues - 1) / blockValues : 0
        guard blocks <= r.remaining / 5 else {
            throw DecodeError(.truncated, at: r.offset, "\(count) values need \(blocks) blocks, \(r.remaining) bytes left")
        }
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(count)
        if count > 0 { out.append(firstValue) }
        var prev = firstValue
        while out.count < count {
            let minAt = r.offset
            let minDeltaWide = try r.readVarint()
            guard let minDelta = T(exactly: minDeltaWide) else {
                throw DecodeError(.malformed, at: minAt, "min delta \(minDeltaWide) out of range")
            }
            let widthsAt = r.offset
            let widths = try r.readBytes(miniBlocks)
            for m in 0 ..< miniBlocks where out.count < count {
                let width = Int(widths[m])
                guard width <= T.bitWidth else {
                    throw DecodeError(.malformed, at: widthsAt + m, "bit width \(width) exceeds \(T.bitWidth)")
                }
                let packed = try r.readBytes(4 * width)
                var unpacker = BitUnpacker(packed, width: width)
                for _ in 0 ..< miniBlockValues {
                    let adjusted = T(truncatingIfNeeded: unpacker.next())
                    guard out.count < count else { break }
                    prev = prev &+ minDelta &+ adjusted
                    out.append(prev)
                }
            }
        }
        guard r.isAtEnd else {
            throw DecodeError(.malformed, at: r.offset, "\(r.remaining) bytes after \(count) values")
        }
    }
}

/// Appends fixed-width values LSB-first (parquet bit packing).

struct BitPacker {
    let width: Int
    var pending: UInt64 = 0
    var pendingBits = 0

    init(width: Int) { self.width = width }

    mutating func append(_ value: UInt64, into w: inout ByteWriter) {
        var v = value
        var left = width
        while left > 0 {
            // pendingBits < 8 here, so at most 63 bits are pending after this step.
            let take = min(left, 56)
            pending |= (v & ((1 << UInt64(take)) &- 1)) << UInt64(pendingBits)
            pendingBits += take
            v >>= UInt64(take)
            left -= take
            while pendingBits >= 8 {
                w.append(UInt8(truncatingIfNeeded: pending))
                pending >>= 8
                pendingBits -= 8
            }
        }
    }
}

/// Reads fixed-width values LSB-first from exactly `4 * width` bytes (32 values).

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
