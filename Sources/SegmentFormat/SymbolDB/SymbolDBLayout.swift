/// Fixed sizes and codes of the symdb v3 layout (symdb.md §4, §5).
enum SymbolDBLayout {
    static let magic: UInt32 = 0x7379_6d31 // "sym1"
    static let version: UInt32 = 3
    static let footerSize = 24
    static let indexHeaderSize = 16
    static let tocSize = 16
    static let crcSize = 4
    static let partitionHeaderFixedSize = 12
    static let stackChunkHeaderSize = 64
    /// 28 used bytes padded to 32 by Go's `unsafe.Sizeof` (§4.3).
    static let symbolsHeaderSize = 32
    static let symbolsHeaderUsedSize = 28
    static let symbolsBlockSize = 1024
    /// Chunk encoding 1: group-varint parent-pointer tree (§6.2).
    static let treeEncoding: UInt8 = 1
}

/// One symbol table kind: its format code and its block header size (symdb.md §4.3, §5).
enum SymbolTableKind {
    case locations, mappings, functions, strings

    var format: UInt16 {
        switch self {
        case .locations: 1
        case .functions: 2
        case .mappings: 3
        case .strings: 4
        }
    }

    /// The size writers use, which is also the minimum a reader reads.
    var blockHeaderSize: Int {
        switch self {
        case .locations: 28
        case .mappings: 32
        case .functions: 24
        case .strings: 12
        }
    }

    var name: String {
        switch self {
        case .locations: "locations"
        case .mappings: "mappings"
        case .functions: "functions"
        case .strings: "strings"
        }
    }
}

/// A `SymbolsBlockHeader` (§4.3): where a table lives and how it is blocked.
struct SymbolTableHeader {
    var offset: UInt64
    var size: UInt32
    var crc: UInt32
    var length: UInt32
    var blockSize: UInt32
    var blockHeaderSize: UInt16
    var format: UInt16
}
