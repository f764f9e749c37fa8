import BinaryCoding

extension StringProtocol {
    /// Without leading and trailing spaces, tabs, CRs and LFs (an INI line's value, a token file's
    /// trailing newline).
    var trimmingSpaces: SubSequence {
        trimming { $0.isSpaceOrTab || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
    }
}
