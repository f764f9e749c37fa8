/// The shared credentials file (`~/.aws/credentials`) read as go-ini, minio-go's reader, reads
/// it: `[name]` sections (repeated ones merge), `key = value` or `key: value` (the last of a
/// key wins), `#` and `;` comments, also after an unquoted value; a value in backticks is taken
/// as is, one in single or double quotes without them.
enum AWSSharedCredentialsFile {
    /// The keys of section `name`, nil when the file has none.
    static func section(_ name: String, in text: String) -> [String: String]? {
        var current: Substring?
        var keys: [String: String]?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                current = line[line.index(after: line.startIndex)..<close].trimmingSpaces
                if current == Substring(name), keys == nil { keys = [:] }
                continue
            }
            guard current == Substring(name), let delimiter = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            keys?[String(line[..<delimiter].trimmingSpaces)] = value(line[line.index(after: delimiter)...])
        }
        return keys
    }

    private static func value(_ text: Substring) -> String {
        var rest = text.trimmingSpaces
        if rest.hasPrefix("`"), let close = rest.dropFirst().firstIndex(of: "`") {
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        if let comment = rest.firstIndex(where: { $0 == "#" || $0 == ";" }) { rest = rest[..<comment].trimmingSpaces }
        if rest.count >= 2, let quote = rest.first, quote == "\"" || quote == "'", rest.last == quote {
            rest = rest.dropFirst().dropLast()
        }
        return String(rest)
    }
}
