/// Min/max statistics in the column's logical order, as Parquet stores them (§5.1): INT32 as 4
/// bytes LE, INT64 as 8 bytes LE, FLBA raw, BYTE_ARRAY raw; unsigned columns compare unsigned.
enum Statistics {
    /// The page's min and max value bytes, or nil when every entry is null.
    static func pageBounds(_ column: ProfileColumn, _ page: PageBuffer, of c: ProfileColumns) -> ([UInt8], [UInt8])? {
        switch column.physicalType {
        case .int32:
            guard let (lo, hi) = bounds(page.ints, as: UInt32.self) else { return nil }
            return (le(UInt64(lo), 4), le(UInt64(hi), 4))
        case .int64 where column.isUnsigned:
            guard let (lo, hi) = bounds(page.ints, as: UInt64.self) else { return nil }
            return (le(lo, 8), le(hi, 8))
        case .int64:
            guard let (lo, hi) = bounds(page.ints, as: Int64.self) else { return nil }
            return (le(UInt64(bitPattern: lo), 8), le(UInt64(bitPattern: hi), 8))
        case .fixedLenByteArray:
            guard let lo = page.fixed16.min(), let hi = page.fixed16.max() else { return nil }
            return (be128(lo), be128(hi))
        case .byteArray:
            let values = column == .annotationKey ? c.annotationKeys : c.annotationValues
            guard let first = page.strings.first else { return nil }
            var lo = values[first], hi = lo
            for i in page.strings { if values[i] < lo { lo = values[i] }; if hi < values[i] { hi = values[i] } }
            return (lo.bytes, hi.bytes)
        default:
            preconditionFailure("no statistics for \(column)")
        }
    }

    /// Min and max of `values` read as `T` (the column's logical order), nil when empty.
    private static func bounds<T: FixedWidthInteger>(_ values: [Int64], as _: T.Type) -> (T, T)? {
        values.withUnsafeBufferPointer { v in
            guard let first = v.first else { return nil }
            var lo = T(truncatingIfNeeded: first), hi = lo
            for x in v {
                let u = T(truncatingIfNeeded: x)
                lo = Swift.min(lo, u)
                hi = Swift.max(hi, u)
            }
            return (lo, hi)
        }
    }

    /// `a < b` in the column's logical order.
    static func less(_ column: ProfileColumn, _ a: [UInt8], _ b: [UInt8]) -> Bool {
        switch column.physicalType {
        case .int32: return readLE(a) < readLE(b)
        case .int64 where column.isUnsigned: return readLE(a) < readLE(b)
        case .int64: return Int64(bitPattern: readLE(a)) < Int64(bitPattern: readLE(b))
        default: return a.lexicographicallyPrecedes(b)
        }
    }

    /// Column-index bounds of a byte array: min cut to 16 bytes; max cut to 16 bytes and then
    /// incremented as a big-endian number so it stays an upper bound (§5.1).
    static let columnIndexTruncation = 16

    static func truncatedMin(_ v: [UInt8]) -> [UInt8] { Array(v.prefix(columnIndexTruncation)) }

    static func truncatedMax(_ v: [UInt8]) -> [UInt8] {
        guard v.count > columnIndexTruncation else { return v }
        var cut = Array(v.prefix(columnIndexTruncation))
        var i = cut.count - 1
        while i >= 0 {
            if cut[i] != 0xff { cut[i] += 1; return cut }
            cut[i] = 0
            i -= 1
        }
        return v // every byte was 0xff: no shorter upper bound exists.
    }

    static func le(_ v: UInt64, _ width: Int) -> [UInt8] {
        (0 ..< width).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
    }

    static func be128(_ v: UInt128) -> [UInt8] {
        (0 ..< 16).map { UInt8(truncatingIfNeeded: v >> (8 * UInt128(15 - $0))) }
    }

    private static func readLE(_ b: [UInt8]) -> UInt64 {
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() where i < 8 { v |= UInt64(byte) << (8 * UInt64(i)) }
        return v
    }
}
