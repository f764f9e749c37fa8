/// URI encoding as AWS SigV4 defines it ("UriEncode" in the S3 signing docs): every byte
/// except the unreserved `A-Z a-z 0-9 - _ . ~` becomes `%XY` with upper-case hex; `/` is kept
/// in object key paths and encoded in query strings. Works on UTF-8 bytes, so keys with
/// non-ASCII characters encode the way S3 decodes them.
public enum URIEncoding {
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            if isUnreserved(b) || (keepSlash && b == UInt8(ascii: "/")) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
