extension StringProtocol {
    /// Without the leading and trailing characters `isTrimmed` accepts (HTTP's optional
    /// whitespace around a header value, an INI line's spaces, a token file's trailing newline).
    public func trimming(_ isTrimmed: (Character) -> Bool) -> SubSequence {
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}

extension Character {
    /// HTTP's optional whitespace (RFC 9110 §5.6.3): a space or a horizontal tab.
    public var isSpaceOrTab: Bool { self == " " || self == "\t" }
}
