/// Test-only: recomputes every CRC of a (possibly mutated) symdb file wherever its structure can
/// still be followed, so mutations reach the decoders behind the checksums. Best effort: it stops
/// at anything out of range and never traps.
enum ChecksumRepair {
    static func repair(_ b: inout [UInt8]) {
        guard b.count >= 24 else { return }
        let footer = b.count - 24
        let indexOffset = be64(b, footer + 8)
        if indexOffset <= UInt64(footer), footer - Int(indexOffset) >= 40 {
            let index = Int(indexOffset)
            let crcAt = footer - 4
            repairPartitionHeaders(&b, from: index + 32, to: crcAt, dataEnd: index)
            setBE32(&b, crcAt, crc(b, index ..< crcAt))
        }
        setBE32(&b, footer + 20, crc(b, footer ..< footer + 20))
    }

    private static func repairPartitionHeaders(_ b: inout [UInt8], from start: Int, to end: Int, dataEnd: Int) {
        guard start + 4 <= end else { return }
        var p = start + 4
        for _ in 0 ..< min(Int(be32(b, start)), 64) {
            guard p + 12 <= end else { return }
            let chunks = Int(be32(b, p + 8))
            p += 12
            for _ in 0 ..< min(chunks, 64) {
                guard p + 64 <= end else { return }
                if let range = region(be64(b, p), be64(b, p + 8), dataEnd) { setBE32(&b, p + 60, crc(b, range)) }
                p += 64
            }
            for kind in 0 ..< 4 { // locations, mappings, functions, strings
                guard p + 32 <= end else { return }
                if let range = region(be64(b, p), UInt64(be32(b, p + 8)), dataEnd) {
                    repairBlocks(&b, range, kind: kind)
                    setBE32(&b, p + 12, crc(b, range))
                }
                p += 32
            }
        }
    }

    private static func repairBlocks(_ b: inout [UInt8], _ range: Range<Int>, kind: Int) {
        let headerSize = [28, 32, 24, 12][kind]
        var pos = range.lowerBound
        while pos + headerSize <= range.upperBound {
            setBE32(&b, pos + headerSize - 4, crc(b, pos ..< pos + headerSize - 4))
            let count = Int(be32(b, pos))
            var size = headerSize
            switch kind {
            case 0: size += Int(be32(b, pos + 4)) + count + Int(be32(b, pos + 12)) + Int(be32(b, pos + 16)) + Int(be32(b, pos + 20))
            case 1: for k in 0 ..< 6 { size += Int(be32(b, pos + 4 + 4 * k)) }
            case 2: for k in 0 ..< 4 { size += Int(be32(b, pos + 4 + 4 * k)) }
            default:
                let wide = b[pos + 5] == 16
                let lengths = pos + 12
                guard lengths + count * (wide ? 2 : 1) <= range.upperBound else { return }
                size += count * (wide ? 2 : 1)
                for i in 0 ..< count {
                    size += wide ? Int(b[lengths + 2 * i]) << 8 | Int(b[lengths + 2 * i + 1]) : Int(b[lengths + i])
                }
            }
            guard size <= range.upperBound - pos else { return }
            pos += size
        }
    }

    private static func region(_ offset: UInt64, _ size: UInt64, _ end: Int) -> Range<Int>? {
        guard offset <= UInt64(end), size <= UInt64(end) - offset else { return nil }
        return Int(offset) ..< Int(offset + size)
    }

    static func be64(_ b: [UInt8], _ at: Int) -> UInt64 { b[at ..< at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
    static func be32(_ b: [UInt8], _ at: Int) -> UInt32 { b[at ..< at + 4].reduce(0) { $0 << 8 | UInt32($1) } }

    static func setBE32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for k in 0 ..< 4 { b[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * k)) }
    }

    static func crc(_ b: [UInt8], _ range: Range<Int>) -> UInt32 {
        CRC32C.checksum(Array(b[range]))
    }
}

import BinaryCoding
