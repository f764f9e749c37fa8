/// Bytes from hex digits, as specs and captures print them; whitespace and line breaks (and any
/// other non-hex character) are ignored, so multi-line literals can be pasted as they are.
public func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter(\.isHexDigit).map { UInt8($0.hexDigitValue!) }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

/// Lower-case hex of `bytes`, two digits a byte, `separator` between bytes.
public func hexString(_ bytes: some Sequence<UInt8>, separator: String = "") -> String {
    let digits = Array("0123456789abcdef")
    return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: separator)
}
