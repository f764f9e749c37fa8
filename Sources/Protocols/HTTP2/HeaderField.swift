import BinaryCoding

/// One header field. Names and values are raw bytes (`ByteString`), never `String`.
public struct HeaderField: Hashable, Sendable, CustomStringConvertible {
    public var name: ByteString
    public var value: ByteString

    public init(_ name: ByteString, _ value: ByteString) {
        self.name = name
        self.value = value
    }

    /// RFC 7541 §4.1: an entry's size is name + value + 32 octets of overhead.
    @inlinable public var hpackSize: Int { name.count + value.count + 32 }

    public var description: String { "\(name): \(value)" }
}

extension Array where Element == HeaderField {
    /// The value of the first field named `name`.
    public func first(named name: ByteString) -> ByteString? {
        for field in self where field.name == name { return field.value }
        return nil
    }
}
