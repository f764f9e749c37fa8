import BinaryCoding
import Testing

@Suite struct TrimmingTests {
    @Test func trimsOnlyTheEnds() {
        #expect(" \t a b \t ".trimming(\.isSpaceOrTab) == "a b")
        #expect("a".trimming(\.isSpaceOrTab) == "a")
        #expect(" \t ".trimming(\.isSpaceOrTab).isEmpty && "".trimming(\.isSpaceOrTab).isEmpty)
        #expect("\r\nkey\n".trimming(\.isSpaceOrTab) == "\r\nkey\n")
        #expect("\r\nkey\n".trimming { $0.isNewline } == "key")
    }
}
