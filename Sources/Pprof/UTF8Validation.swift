/// UTF-8 well-formedness as Go's `utf8.Valid` defines it (no overlongs, no surrogates,
/// nothing above U+10FFFF). The Go protobuf runtime applies it to proto3 `string` fields,
/// so the writer must too for `tenant_id`, labels and annotations (ingest-and-ops.md §1.3).
/// Allocation-free; ASCII runs take the fast path.
@inlinable
public func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
        let b0 = bytes[i]
        if b0 < 0x80 { i += 1; continue }
        // Second-byte range depends on the lead byte (Unicode table 3-7).
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        let width: Int
        switch b0 {
        case 0xC2 ... 0xDF: width = 2
        case 0xE0: width = 3; lo = 0xA0
        case 0xE1 ... 0xEC, 0xEE ... 0xEF: width = 3
        case 0xED: width = 3; hi = 0x9F
        case 0xF0: width = 4; lo = 0x90
        case 0xF1 ... 0xF3: width = 4
        case 0xF4: width = 4; hi = 0x8F
        default: return false
        }
        guard n - i >= width else { return false }
        let b1 = bytes[i + 1]
        guard b1 >= lo, b1 <= hi else { return false }
        var k = 2
        while k < width {
            guard bytes[i + k] & 0xC0 == 0x80 else { return false }
            k += 1
        }
        i += width
    }
    return true
}
