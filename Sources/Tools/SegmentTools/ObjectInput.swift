import BinaryCoding
import Foundation
import SegmentObject

/// An error the tools report as text (unreadable file, missing metadata, unknown dataset).
public struct SegmentToolError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// An object's bytes with the metadata to open it with: the trailer (`meta == nil`), or a
/// `block-metas.json` entry (era-A objects have no trailer).
public struct ObjectInput: Sendable {
    public var path: String
    public var bytes: [UInt8]
    public var meta: BlockMeta?

    public init(path: String, bytes: [UInt8], meta: BlockMeta? = nil) {
        self.path = path
        self.bytes = bytes
        self.meta = meta
    }

    /// Reads `path`; with `metaPath`, takes the entry whose ID is the parent directory's name
    /// (or the only entry).
    public init(path: String, metaPath: String?) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw SegmentToolError("cannot read \(path)") }
        self.init(path: path, bytes: [UInt8](data))
        guard let metaPath else { return }
        guard let json = FileManager.default.contents(atPath: metaPath) else { throw SegmentToolError("cannot read \(metaPath)") }
        let metas = try BlockMetasJSON.parse(json)
        if let id = try? ObjectPath.blockID(fromPath: path), let m = metas.first(where: { $0.id == id.byteString }) {
            meta = m
        } else if metas.count == 1 {
            meta = metas[0]
        } else {
            throw SegmentToolError("\(metaPath) has no metadata for \(path) (block ID taken from the parent directory)")
        }
    }

    // `Array.withUnsafeBytes` rethrows untyped; what comes out is always a `DecodeError`.
    public func open() throws -> SegmentObjectLayout {
        do {
            return try bytes.withUnsafeBytes { try SegmentObjectReader.open($0, meta: meta) }
        } catch let error as DecodeError where meta == nil && error.context == ["trailer"] {
            throw SegmentToolError("\(path): \(error)\n(no metadata trailer: an era-A object? pass --meta block-metas.json)")
        }
    }

    public func verified() throws -> VerifiedSegmentObject {
        try bytes.withUnsafeBytes { try SegmentObjectVerifier.verify($0, meta: meta) }
    }

    /// Runs `body` over one section's bytes.
    func withSection<T>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}
