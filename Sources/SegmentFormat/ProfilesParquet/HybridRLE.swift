import BinaryCoding

/// The RLE/bit-packed hybrid encoding of levels and dictionary indices (profiles-parquet.md §5.2).
enum HybridRLE {
    /// Appends exactly `count` values of `bitWidth` bits decoded from `r` to `out`. Runs that would
    /// overshoot `count` are cut (a bit-packed run pads its last group); missing values throw.
    static func decode(_ r: inout ByteReader, bitWidth: Int, count: Int, into out: inout [UInt32]) throws(DecodeError) {
        precondition(bitWidth >= 0 && bitWidth <= 32)
        var left = count
        let valueBytes = (bitWidth + 7) / 8
        while left > 0 {
            let start = r.offset
            let header = try r.readUvarint()
            if header & 1 == 0 {
                let run = header >> 1
                guard run > 0 else { throw DecodeError(.malformed, at: start, "empty RLE run") }
                var value: UInt32 = 0
                for i in 0 ..< valueBytes { value |= UInt32(try r.readU8()) << (8 * i) }
                guard bitWidth == 32 || value >> bitWidth == 0 else {
                    throw DecodeError(.malformed, at: start, "RLE value \(value) wider than \(bitWidth) bits")
                }
                let n = Int(min(run, UInt64(left)))
                out.append(contentsOf: repeatElement(value, count: n))
                left -= n
            } else {
                let groups = header >> 1
                guard groups > 0, groups <= UInt64(r.remaining) else {
                    throw DecodeError(.truncated, at: start, "bit-packed run of \(groups) groups")
                }
                let bytes = try r.readBytes(Int(groups) * bitWidth)
                let n = min(Int(groups) * 8, left)
                unpack(bytes, bitWidth: bitWidth, count: n, into: &out)
                left -= n
            }
        }
    }

    /// LSB-first bit unpacking of `count` values (the bytes hold at least `count * bitWidth` bits).
    static func unpack(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, count: Int, into out: inout [UInt32]) {
        if bitWidth == 0 {
            out.append(contentsOf: repeatElement(0, count: count))
            return
        }
        var bitPos = 0
        let mask: UInt64 = (1 << UInt64(bitWidth)) - 1
        for _ in 0 ..< count {
            var v: UInt64 = 0
            var got = 0
            var pos = bitPos
            while got < bitWidth {
                let byte = UInt64(bytes[pos >> 3]) >> UInt64(pos & 7)
                v |= byte << UInt64(got)
                let taken = 8 - (pos & 7)
                got += taken
                pos += taken
            }
            out.append(UInt32(truncatingIfNeeded: v & mask))
            bitPos += bitWidth
        }
    }

    // MARK: Encoding (parquet-go v0.30.1 run selection, §5.2)

    /// Levels: groups of 8 equal levels become RLE runs (extended over following equal groups);
    /// otherwise a bit-packed run grows while the next group is not 8 copies of the previous
    /// group's first level. The tail (`count % 8`) is RLE runs of equal values.
    /// `scratch` is the writer's reused output buffer (it only grows).
    static func encodeLevels(_ levels: UnsafeBufferPointer<UInt8>, bitWidth: Int, scratch: inout [UInt8], into w: inout ByteWriter) {
        withRunWriter(count: levels.count, bitWidth: bitWidth, scratch: &scratch, into: &w) { out in
            if bitWidth == 0 {
                out.uvarint(UInt64(levels.count) << 1)
                return
            }
            // A group is uniform when its 8 bytes, read as one word, are 8 copies of the level.
            func uniform(_ g: Int, _ v: UInt8) -> Bool {
                UnsafeRawPointer(levels.baseAddress!).loadUnaligned(fromByteOffset: g * 8, as: UInt64.self)
                    == UInt64(v) &* 0x0101_0101_0101_0101
            }
            let groups = levels.count / 8
            var i = 0
            while i < groups {
                var j = i
                let first = levels[i * 8]
                while j < groups && uniform(j, first) { j += 1 }
                if i < j {
                    out.uvarint(UInt64(8 * (j - i)) << 1)
                    out.byte(first)
                } else {
                    j += 1
                    while j < groups && !uniform(j, levels[(j - 1) * 8]) { j += 1 }
                    out.uvarint(UInt64(j - i) << 1 | 1)
                    pack(levels, from: i * 8, count: (j - i) * 8, bitWidth: bitWidth, into: &out)
                }
                i = j
            }
            appendTailRuns(levels, from: groups * 8, valueBytes: 1, into: &out)
        }
    }

    static func encodeLevels(_ levels: UnsafeBufferPointer<UInt8>, bitWidth: Int, into w: inout ByteWriter) {
        var scratch: [UInt8] = []
        encodeLevels(levels, bitWidth: bitWidth, scratch: &scratch, into: &w)
    }

    /// Dictionary indices (no bit-width byte): like levels, but a bit-packed run stops at the first
    /// group that is 8 copies of its own first element.
    static func encodeIndices(_ indices: UnsafeBufferPointer<UInt32>, bitWidth: Int, scratch: inout [UInt8], into w: inout ByteWriter) {
        withRunWriter(count: indices.count, bitWidth: bitWidth, scratch: &scratch, into: &w) { out in
            if bitWidth == 0 {
                out.uvarint(UInt64(indices.count) << 1)
                return
            }
            let valueBytes = (bitWidth + 7) / 8
            let groups = indices.count / 8
            func uniform(_ g: Int, _ v: UInt32) -> Bool {
                for k in 0 ..< 8 where indices[g * 8 + k] != v { return false }
                return true
            }
            var i = 0
            while i < groups {
                var j = i
                let first = indices[i * 8]
                while j < groups && uniform(j, first) { j += 1 }
                if i < j {
                    out.uvarint(UInt64(8 * (j - i)) << 1)
                    out.value(first, bytes: valueBytes)
                } else {
                    j += 1
                    while j < groups && !uniform(j, indices[j * 8]) { j += 1 }
                    out.uvarint(UInt64(j - i) << 1 | 1)
                    pack(indices, from: i * 8, count: (j - i) * 8, bitWidth: bitWidth, into: &out)
                }
                i = j
            }
            appendTailRuns(indices, from: groups * 8, valueBytes: valueBytes, into: &out)
        }
    }

    static func encodeIndices(_ indices: UnsafeBufferPointer<UInt32>, bitWidth: Int, into w: inout ByteWriter) {
        var scratch: [UInt8] = []
        encodeIndices(indices, bitWidth: bitWidth, scratch: &scratch, into: &w)
    }

    /// Runs `encode` over `scratch` grown to the worst case for `count` values (a run header is at
    /// most 5 bytes and covers at least one group of 8 or one tail value; a value at most 4 bytes),
    /// then appends what it wrote to `w`: one copy per stream instead of one append per byte.
    private static func withRunWriter(count: Int, bitWidth: Int, scratch: inout [UInt8], into w: inout ByteWriter,
                                      _ encode: (inout RunWriter) -> Void) {
        let bound = (count / 8) * (9 + bitWidth) + (count % 8) * 9 + 5
        if scratch.count < bound { scratch.append(contentsOf: repeatElement(0, count: bound - scratch.count)) }
        let written = scratch.withUnsafeMutableBufferPointer { buffer in
            var out = RunWriter(buffer.baseAddress!)
            encode(&out)
            return out.count
        }
        precondition(written <= bound, "hybrid RLE output past its bound")
        scratch.withUnsafeBytes { w.append(UnsafeRawBufferPointer(rebasing: $0[..<written])) }
    }

    private static func appendTailRuns<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, from start: Int, valueBytes: Int,
                                                              into out: inout RunWriter) {
        var i = start
        while i < values.count {
            var j = i + 1
            while j < values.count && values[j] == values[i] { j += 1 }
            out.uvarint(UInt64(j - i) << 1)
            out.value(UInt32(values[i]), bytes: valueBytes)
            i = j
        }
    }

    /// LSB-first bit packing; `count` is a multiple of 8 so the output is whole bytes.
    private static func pack<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, from start: Int, count: Int, bitWidth: Int,
                                                   into out: inout RunWriter) {
        var acc: UInt64 = 0
        var bits = 0
        for k in start ..< start + count {
            acc |= UInt64(values[k]) << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                out.byte(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
        if bits > 0 { out.byte(UInt8(truncatingIfNeeded: acc)) }
    }

    static func bitLength(_ v: UInt64) -> Int { 64 - v.leadingZeroBitCount }
}

/// A write cursor over scratch memory the caller sized for the worst case.
struct RunWriter {
    private let start: UnsafeMutablePointer<UInt8>
    private var next: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) {
        self.start = start
        next = start
    }

    var count: Int { start.distance(to: next) }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        next.pointee = b
        next += 1
    }

    @inline(__always)
    mutating func uvarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    /// `bytes` low-order bytes of `v`, little-endian.
    @inline(__always)
    mutating func value(_ v: UInt32, bytes: Int) {
        for k in 0 ..< bytes { byte(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
    }
}
