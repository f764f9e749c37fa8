import BinaryCoding

/// The msgpack a memberlist reply is made of (hashicorp's codec: a struct is a map keyed by field
/// name, a byte slice a raw string or a bin). Reads what a push/pull reply needs and skips the
/// rest; every length is checked against the bytes left, nesting is bounded.
struct MsgpackReader {
    private var reader: ByteReader
    private static let maxDepth = 32

    init(_ bytes: UnsafeRawBufferPointer) { reader = ByteReader(bytes) }

    var offset: Int { reader.offset }

    /// The number of entries of the map here.
    mutating func readMapCount() throws(DecodeError) -> Int {
        let start = reader.offset
        let b = try reader.readU8()
        switch b {
        case 0x80 ... 0x8F: return Int(b & 0x0F)
        case 0xDE: return Int(try reader.readBE16())
        case 0xDF: return Int(try reader.readBE32())
        default: throw DecodeError(.malformed, at: start, "msgpack: expected a map, found 0x\(String(b, radix: 16))")
        }
    }

    /// A string or bin here, as a view of the input.
    mutating func readBytes() throws(DecodeError) -> UnsafeRawBufferPointer {
        let start = reader.offset
        let b = try reader.readU8()
        let n: Int
        switch b {
        case 0xA0 ... 0xBF: n = Int(b & 0x1F)
        case 0xD9, 0xC4: n = Int(try reader.readU8())
        case 0xDA, 0xC5: n = Int(try reader.readBE16())
        case 0xDB, 0xC6: n = Int(try reader.readBE32())
        default: throw DecodeError(.malformed, at: start, "msgpack: expected a string, found 0x\(String(b, radix: 16))")
        }
        return try reader.readBytes(n)
    }

    /// An integer here (any width, signed or not), or false/true as 0/1.
    mutating func readInt() throws(DecodeError) -> Int64 {
        let start = reader.offset
        let b = try reader.readU8()
        switch b {
        case 0x00 ... 0x7F: return Int64(b)
        case 0xE0 ... 0xFF: return Int64(Int8(bitPattern: b))
        case 0xC2: return 0
        case 0xC3: return 1
        case 0xCC: return Int64(try reader.readU8())
        case 0xCD: return Int64(try reader.readBE16())
        case 0xCE: return Int64(try reader.readBE32())
        case 0xCF:
            let v = try reader.readBE64()
            guard v <= UInt64(Int64.max) else { throw DecodeError(.malformed, at: start, "msgpack: integer out of range") }
            return Int64(v)
        case 0xD0: return Int64(Int8(bitPattern: try reader.readU8()))
        case 0xD1: return Int64(Int16(bitPattern: try reader.readBE16()))
        case 0xD2: return Int64(Int32(bitPattern: try reader.readBE32()))
        case 0xD3: return Int64(bitPattern: try reader.readBE64())
        default: throw DecodeError(.malformed, at: start, "msgpack: expected an integer, found 0x\(String(b, radix: 16))")
        }
    }

    /// Skips one value of any type.
    mutating func skipValue() throws(DecodeError) { try skipValue(depth: 0) }

    private mutating func skipValue(depth: Int) throws(DecodeError) {
        let start = reader.offset
        guard depth < Self.maxDepth else { throw DecodeError(.limitExceeded, at: start, "msgpack: nested deeper than \(Self.maxDepth)") }
        let b = try reader.readU8()
        switch b {
        case 0x00 ... 0x7F, 0xE0 ... 0xFF, 0xC0, 0xC2, 0xC3: return
        case 0x80 ... 0x8F: try skipValues(2 * Int(b & 0x0F), depth: depth)
        case 0x90 ... 0x9F: try skipValues(Int(b & 0x0F), depth: depth)
        case 0xA0 ... 0xBF: try reader.skip(Int(b & 0x1F))
        case 0xC4, 0xD9: try reader.skip(Int(try reader.readU8()))
        case 0xC5, 0xDA: try reader.skip(Int(try reader.readBE16()))
        case 0xC6, 0xDB: try reader.skip(Int(try reader.readBE32()))
        case 0xC7: let n = Int(try reader.readU8()); try reader.skip(1 + n)
        case 0xC8: let n = Int(try reader.readBE16()); try reader.skip(1 + n)
        case 0xC9: let n = Int(try reader.readBE32()); try reader.skip(1 + n)
        case 0xCA: try reader.skip(4)
        case 0xCB: try reader.skip(8)
        case 0xCC, 0xD0: try reader.skip(1)
        case 0xCD, 0xD1: try reader.skip(2)
        case 0xCE, 0xD2: try reader.skip(4)
        case 0xCF, 0xD3: try reader.skip(8)
        case 0xD4: try reader.skip(2)
        case 0xD5: try reader.skip(3)
        case 0xD6: try reader.skip(5)
        case 0xD7: try reader.skip(9)
        case 0xD8: try reader.skip(17)
        case 0xDC: try skipValues(Int(try reader.readBE16()), depth: depth)
        case 0xDD: try skipValues(Int(try reader.readBE32()), depth: depth)
        case 0xDE: try skipValues(2 * Int(try reader.readBE16()), depth: depth)
        case 0xDF: try skipValues(2 * Int(try reader.readBE32()), depth: depth)
        default: throw DecodeError(.malformed, at: start, "msgpack: unknown type 0x\(String(b, radix: 16))")
        }
    }

    private mutating func skipValues(_ count: Int, depth: Int) throws(DecodeError) {
        // Every value takes at least a byte: a count beyond what is left is cut off.
        guard count <= reader.remaining else { throw DecodeError(.truncated, at: reader.offset, "msgpack: \(count) values with \(reader.remaining) bytes left") }
        for _ in 0 ..< count { try skipValue(depth: depth + 1) }
    }

    /// What follows the msgpack values read so far.
    mutating func rest() throws(DecodeError) -> UnsafeRawBufferPointer {
        try reader.readBytes(reader.remaining)
    }
}
