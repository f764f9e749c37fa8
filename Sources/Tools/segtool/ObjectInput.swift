import ArgumentParser
import BinaryCoding
import Foundation
import SegmentObject

/// Where the metadata comes from: the object's trailer, or a `block-metas.json` export
/// (needed for era-A objects, which have no trailer).
struct MetadataOptions: ParsableArguments {
    @Option(name: .long, help: "Metadata from a block-metas.json export instead of the object's trailer.")
    var meta: String?
}

struct ToolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An object file read into memory with the metadata to open it with.
struct ObjectInput {
    var path: String
    var bytes: [UInt8]
    /// nil: read the trailer.
    var meta: BlockMeta?

    init(path: String, metaPath: String?) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { throw ToolError("cannot read \(path)") }
        bytes = [UInt8](data)
        guard let metaPath else { return }
        guard let json = FileManager.default.contents(atPath: metaPath) else { throw ToolError("cannot read \(metaPath)") }
        let metas = try BlockMetasJSON.parse(json)
        if let id = try? ObjectPath.blockID(fromPath: path), let m = metas.first(where: { $0.id == id.byteString }) {
            meta = m
        } else if metas.count == 1 {
            meta = metas[0]
        } else {
            throw ToolError("\(metaPath) has no metadata for \(path) (block ID taken from the parent directory)")
        }
    }

    // `Array.withUnsafeBytes` rethrows untyped; what comes out is always a `DecodeError`.
    func open() throws -> SegmentObjectLayout {
        do {
            return try bytes.withUnsafeBytes { try SegmentObjectReader.open($0, meta: meta) }
        } catch let error as DecodeError where meta == nil && error.context == ["trailer"] {
            throw ToolError("\(path): \(error)\n(no metadata trailer: an era-A object? pass --meta block-metas.json)")
        }
    }

    func verify() throws -> VerifiedSegmentObject {
        try bytes.withUnsafeBytes { try SegmentObjectVerifier.verify($0, meta: meta) }
    }

    /// Runs `body` over one section's bytes.
    func withSection<T>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}
