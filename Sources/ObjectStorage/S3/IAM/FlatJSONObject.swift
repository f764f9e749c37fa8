/// Just enough JSON for the credentials services' answers: one object whose values are strings,
/// numbers, booleans or null (kept as their text; null dropped). Anything nested or malformed is
/// an error, not a guess.
enum FlatJSONObject {
    static func parse(_ bytes: [UInt8]) throws(AWSIAMError) -> [String: String] {
        var reader = Reader(bytes: bytes)
        var object: [String: String] = [:]
        try reader.expect(UInt8(ascii: "{"))
        if try reader.peek() == UInt8(ascii: "}") {
            reader.index += 1
        } else {
            while true {
                let name = try reader.string()
                try reader.expect(UInt8(ascii: ":"))
                object[name] = try reader.scalar()
                let next = try reader.next()
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw .malformed("the credentials answer is not a flat JSON object") }
            }
        }
        reader.skipSpace()
        guard reader.index == bytes.count else { throw .malformed("the credentials answer has bytes after its JSON object") }
        return object
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [9, 10, 13, 32].contains(bytes[index]) { index += 1 }
        }

        mutating func peek() throws(AWSIAMError) -> UInt8 {
            skipSpace()
            guard index < bytes.count else { throw .malformed("the credentials answer's JSON ends early") }
            return bytes[index]
        }

        mutating func next() throws(AWSIAMError) -> UInt8 {
            let byte = try peek()
            index += 1
            return byte
        }

        mutating func expect(_ byte: UInt8) throws(AWSIAMError) {
            guard try next() == byte else { throw .malformed("the credentials answer is not a flat JSON object") }
        }

        /// A string, number, boolean or null (nil).
        mutating func scalar() throws(AWSIAMError) -> String? {
            if try peek() == UInt8(ascii: "\"") { return try string() }
            let start = index
            while index < bytes.count, !",}] \t\r\n".utf8.contains(bytes[index]) { index += 1 }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if text == "null" { return nil }
            guard text == "true" || text == "false" || (!text.isEmpty && text.utf8.allSatisfy({ "0123456789+-.eE".utf8.contains($0) })) else {
                throw .malformed("the credentials answer is not a flat JSON object")
            }
            return text
        }

        mutating func string() throws(AWSIAMError) -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"): try escape(into: &out)
                case 0..<32: throw .malformed("the credentials answer has a control character in a string")
                default: out.append(byte)
                }
            }
            throw .malformed("the credentials answer's JSON ends early")
        }

        private mutating func escape(into out: inout [UInt8]) throws(AWSIAMError) {
            guard index < bytes.count else { throw .malformed("the credentials answer's JSON ends early") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), bytes[index...].starts(with: "\\u".utf8) {
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw .malformed("the credentials answer has a bad \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw .malformed("the credentials answer has a bad \\u escape") }
                out.append(contentsOf: String(Character(unicode)).utf8)
            default: throw .malformed("the credentials answer has a bad escape")
            }
        }

        private mutating func hex4() throws(AWSIAMError) -> UInt32 {
            guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                throw .malformed("the credentials answer has a bad \\u escape")
            }
            index += 4
            return value
        }
    }
}
