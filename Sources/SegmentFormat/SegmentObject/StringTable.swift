import BinaryCoding

/// First-come string interning (`metadata.StringTable.Put`, segment-object.md §6.1):
/// index 0 is always the empty string, a new string gets the next index.
public struct StringTable: Sendable {
    public private(set) var strings: [ByteString] = [.empty]
    private var indices: [ByteString: Int32] = [.empty: 0]

    public init() {}

    /// The index of `s`, adding it if it is new.
    @discardableResult
    public mutating func put(_ s: ByteString) -> Int32 {
        if let i = indices[s] { return i }
        let i = Int32(strings.count)
        strings.append(s)
        indices[s] = i
        return i
    }

    public func index(of s: ByteString) -> Int32? { indices[s] }

    public subscript(index: Int32) -> ByteString { strings[Int(index)] }

    public var count: Int { strings.count }
}
