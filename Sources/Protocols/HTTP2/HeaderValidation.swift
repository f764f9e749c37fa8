import BinaryCoding

/// RFC 9113 §8.2–§8.3 rules for a received field section. A violation makes the request or
/// response malformed: a stream error of type PROTOCOL_ERROR (§8.1.1).
enum HeaderValidation {
    enum Section { case request, response, trailers }

    // Names as constants: a literal compared with a `ByteString` is built anew at each
    // comparison (an allocation per field of every request).
    private static let method: ByteString = ":method", scheme: ByteString = ":scheme", path: ByteString = ":path"
    private static let authority: ByteString = ":authority", status: ByteString = ":status"
    private static let te: ByteString = "te", trailers: ByteString = "trailers"
    private static let connectionSpecific: Set<ByteString> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    static func check(_ fields: [HeaderField], as section: Section) -> String? {
        var regularSeen = false
        var method = false, scheme = false, path = false, status = false
        for field in fields {
            let name = field.name.bytes
            guard !name.isEmpty else { return "empty field name" }
            // §8.2.1: CR, LF and NUL are never valid in a value (they would split a line in HTTP/1).
            if field.value.bytes.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) {
                return "CR, LF or NUL in the value of \(field.name)"
            }
            // §8.2.1: field names are lowercase.
            if name.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
                return "uppercase field name \(field.name)"
            }
            if name[0] == UInt8(ascii: ":") {
                // §8.3: pseudo-fields first, only the defined ones, never in trailers, never twice.
                if regularSeen { return "pseudo-header \(field.name) after regular fields" }
                switch (section, field.name) {
                case (.request, Self.method): if method { return "duplicate :method" }; method = true
                case (.request, Self.scheme): if scheme { return "duplicate :scheme" }; scheme = true
                case (.request, Self.path):
                    if path || field.value.isEmpty { return "duplicate or empty :path" }
                    path = true
                case (.request, Self.authority): break
                case (.response, Self.status): if status { return "duplicate :status" }; status = true
                default: return "unexpected pseudo-header \(field.name)"
                }
                continue
            }
            regularSeen = true
            // §8.2.2: connection-specific fields are forbidden; `te` may only say "trailers".
            if Self.connectionSpecific.contains(field.name) { return "connection-specific field \(field.name)" }
            if field.name == Self.te, field.value != Self.trailers { return "te other than trailers" }
        }
        switch section {
        case .request where !(method && scheme && path): return "request without :method, :scheme and :path"
        case .response where !status: return "response without :status"
        default: return nil
        }
    }
}
