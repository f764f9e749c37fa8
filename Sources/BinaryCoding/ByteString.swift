/// A string as raw bytes, compared and ordered byte-wise like Go strings.
/// Formats must not use `String` for label names, values or symbols: Swift's
/// `String` equality merges canonically equivalent forms and its decoding
/// replaces invalid UTF-8, both of which change bytes (tsdb-index.md §2).
public struct ByteString: Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    @inlinable public init(_ bytes: [UInt8]) { self.bytes = bytes }
    @inlinable public init(_ raw: UnsafeRawBufferPointer) { self.bytes = Array(raw) }
    @inlinable public init(_ string: String) { self.bytes = Array(string.utf8) }
    @inlinable public init(stringLiteral value: String) { self.bytes = Array(value.utf8) }

    public static let empty = ByteString([])

    @inlinable public var count: Int { bytes.count }
    @inlinable public var isEmpty: Bool { bytes.isEmpty }

    /// Byte-wise order (Go `strings.Compare`).
    @inlinable
    public static func < (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The bytes in one call: the synthesized hash fed the hasher byte by byte, which was most
    /// of interning a segment's metadata strings (one per profile type).
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// For display only: invalid UTF-8 is replaced.
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

extension ByteWriter {
    @inlinable
    public mutating func append(_ s: ByteString) { bytes.append(contentsOf: s.bytes) }
}
