import BinaryCoding

/// A pprof mapping as symdb stores it (symdb.md §2, §5.2). Strings are indexes into the partition's
/// string table.
public struct SymbolMapping: Hashable, Sendable {
    public var memoryStart: UInt64
    public var memoryLimit: UInt64
    public var fileOffset: UInt64
    public var filename: UInt32
    public var buildID: UInt32
    public var hasFunctions: Bool
    public var hasFilenames: Bool
    public var hasLineNumbers: Bool
    public var hasInlineFrames: Bool

    public init(
        memoryStart: UInt64 = 0, memoryLimit: UInt64 = 0, fileOffset: UInt64 = 0,
        filename: UInt32 = 0, buildID: UInt32 = 0,
        hasFunctions: Bool = false, hasFilenames: Bool = false,
        hasLineNumbers: Bool = false, hasInlineFrames: Bool = false
    ) {
        self.memoryStart = memoryStart
        self.memoryLimit = memoryLimit
        self.fileOffset = fileOffset
        self.filename = filename
        self.buildID = buildID
        self.hasFunctions = hasFunctions
        self.hasFilenames = hasFilenames
        self.hasLineNumbers = hasLineNumbers
        self.hasInlineFrames = hasInlineFrames
    }

    /// symdb.md §5.2: `has_functions<<3 | has_filenames<<2 | has_line_numbers<<1 | has_inline_frames`.
    var flags: Int32 {
        (hasFunctions ? 8 : 0) | (hasFilenames ? 4 : 0) | (hasLineNumbers ? 2 : 0) | (hasInlineFrames ? 1 : 0)
    }
}

/// A pprof function (symdb.md §5.3); `startLine` is the low 32 bits of pprof's int64.
public struct SymbolFunction: Hashable, Sendable {
    public var name: UInt32
    public var systemName: UInt32
    public var filename: UInt32
    public var startLine: UInt32

    public init(name: UInt32 = 0, systemName: UInt32 = 0, filename: UInt32 = 0, startLine: UInt32 = 0) {
        self.name = name
        self.systemName = systemName
        self.filename = filename
        self.startLine = startLine
    }
}

/// One (possibly inlined) frame of a location: a function index and `int32(line)`.
public struct SymbolLine: Hashable, Sendable {
    public var functionID: UInt32
    public var line: Int32

    public init(functionID: UInt32, line: Int32) {
        self.functionID = functionID
        self.line = line
    }
}

/// A pprof location (symdb.md §5.4). `lines[0]` is the innermost inlined frame.
/// `isFolded` survives a write only for the first three locations of each 1024-item block (§5.5).
public struct SymbolLocation: Hashable, Sendable {
    public var mappingID: UInt32
    public var address: UInt64
    public var isFolded: Bool
    public var lines: [SymbolLine]

    public init(mappingID: UInt32 = 0, address: UInt64 = 0, isFolded: Bool = false, lines: [SymbolLine] = []) {
        self.mappingID = mappingID
        self.address = address
        self.isFolded = isFolded
        self.lines = lines
    }
}

/// One stack-trace chunk header's counters (symdb.md §4.3). The current writer emits one chunk
/// holding the whole tree; legacy files hold several independent trees (§7).
public struct SymbolStackChunk: Hashable, Sendable {
    /// Nodes in this chunk, including its root.
    public var nodeCount: UInt32
    /// Distinct stacks inserted (statistics only, §3.4 step 4).
    public var stacktraces: UInt32
    /// Always 0 as written by Pyroscope; kept so a decoded file re-encodes byte for byte.
    public var maxDepth: UInt32

    public init(nodeCount: UInt32, stacktraces: UInt32, maxDepth: UInt32 = 0) {
        self.nodeCount = nodeCount
        self.stacktraces = stacktraces
        self.maxDepth = maxDepth
    }
}

/// One symdb partition: four symbol tables and the parent-pointer stack-trace tree (symdb.md §2).
public struct SymbolPartition: Equatable, Sendable {
    /// The partition key; 0 for everything the current segment writer produces.
    public var key: UInt64
    public var strings: [ByteString]
    public var mappings: [SymbolMapping]
    public var functions: [SymbolFunction]
    public var locations: [SymbolLocation]
    /// Per node, its parent node index within its chunk; a chunk root holds `rootParent`.
    public var stackParents: [UInt32]
    /// Per node, its location index (0 for a root).
    public var stackLocations: [UInt32]
    /// The chunks the nodes are split into, in order; their node counts sum to the node count.
    public var stackChunks: [SymbolStackChunk]
    /// The stack-ID stride between chunks (§7): `0xFFFFFFFF` for the current writer.
    public var maxNodesPerChunk: UInt32

    /// The parent of a root node: -1 as int32 (symdb.md §6.2).
    public static let rootParent = UInt32.max
    /// `max_nodes` of the current (unchunked) writer.
    public static let unchunkedMaxNodes = UInt32.max

    public init(
        key: UInt64 = 0,
        strings: [ByteString] = [ByteString.empty],
        mappings: [SymbolMapping] = [],
        functions: [SymbolFunction] = [],
        locations: [SymbolLocation] = [],
        stackParents: [UInt32] = [SymbolPartition.rootParent],
        stackLocations: [UInt32] = [0],
        stackChunks: [SymbolStackChunk]? = nil,
        maxNodesPerChunk: UInt32 = SymbolPartition.unchunkedMaxNodes
    ) {
        self.key = key
        self.strings = strings
        self.mappings = mappings
        self.functions = functions
        self.locations = locations
        self.stackParents = stackParents
        self.stackLocations = stackLocations
        self.stackChunks = stackChunks ?? [SymbolStackChunk(nodeCount: UInt32(stackParents.count), stacktraces: 0)]
        self.maxNodesPerChunk = maxNodesPerChunk
    }

    /// A partition whose tree is the one `stackTree` built, as a single chunk (the current writer).
    public init(
        key: UInt64 = 0,
        strings: [ByteString],
        mappings: [SymbolMapping],
        functions: [SymbolFunction],
        locations: [SymbolLocation],
        stackTree: StackTreeBuilder
    ) {
        self.init(
            key: key, strings: strings, mappings: mappings, functions: functions, locations: locations,
            stackParents: Array(stackTree.parents), stackLocations: Array(stackTree.locations),
            stackChunks: [SymbolStackChunk(nodeCount: UInt32(stackTree.nodeCount), stacktraces: stackTree.stacktraceCount)])
    }

    /// Total number of distinct stacks over all chunks.
    public var stacktraceCount: Int { stackChunks.reduce(0) { $0 + Int($1.stacktraces) } }

    /// The location indexes of stack `id`, leaf first, root excluded (symdb.md §7).
    /// ID 0 (a chunk root) is the empty stack.
    public func resolveStack(_ id: UInt32) throws(DecodeError) -> [UInt32] {
        var result: [UInt32] = []
        try resolveStack(id, into: &result)
        return result
    }

    /// `resolveStack` into a caller-owned buffer, which is cleared first.
    public func resolveStack(_ id: UInt32, into result: inout [UInt32]) throws(DecodeError) {
        result.removeAll(keepingCapacity: true)
        guard maxNodesPerChunk > 0 else {
            throw DecodeError(.malformed, at: 0, "max_nodes is 0")
        }
        let chunk = Int(id / maxNodesPerChunk)
        let local = Int(id % maxNodesPerChunk)
        guard chunk < stackChunks.count else {
            throw DecodeError(.malformed, at: 0, "stack \(id) is in chunk \(chunk) of \(stackChunks.count)")
        }
        var base = 0
        for c in stackChunks[..<chunk] { base += Int(c.nodeCount) }
        guard local < Int(stackChunks[chunk].nodeCount), base + local < stackParents.count else {
            throw DecodeError(.malformed, at: 0, "stack \(id): node \(local) outside chunk \(chunk)")
        }
        var node = local
        // Parents strictly precede children (checked by the reader, built so by StackTreeBuilder),
        // so at most `local` steps; the bound keeps a hand-built bad tree from looping.
        var steps = 0
        while node > 0 {
            guard steps <= local, base + node < stackParents.count, base + node < stackLocations.count else {
                throw DecodeError(.malformed, at: 0, "stack \(id): parent chain is not a tree")
            }
            result.append(stackLocations[base + node])
            let parent = stackParents[base + node]
            guard parent < UInt32(node) else {
                throw DecodeError(.malformed, at: 0, "stack \(id): node \(node) has parent \(Int32(bitPattern: parent))")
            }
            node = Int(parent)
            steps += 1
        }
    }
}

extension SymbolPartition {
    /// The function names of stack `id`, leaf first; each location contributes its lines in stored
    /// order, innermost inlined frame first (symdb.md §7). Reverse for root-first output.
    public func functionNames(ofStack id: UInt32) throws(DecodeError) -> [ByteString] {
        var names: [ByteString] = []
        for location in try resolveStack(id) {
            guard Int(location) < locations.count else {
                throw DecodeError(.malformed, at: 0, "stack \(id) references location \(location) of \(locations.count)")
            }
            for line in locations[Int(location)].lines {
                guard Int(line.functionID) < functions.count, Int(functions[Int(line.functionID)].name) < strings.count else {
                    throw DecodeError(.malformed, at: 0, "location \(location) references function \(line.functionID) without a name")
                }
                names.append(strings[Int(functions[Int(line.functionID)].name)])
            }
        }
        return names
    }
}

/// A whole `symbols.symdb` file: its partitions in file order (ascending key).
public struct SymbolDBContents: Equatable, Sendable {
    public var partitions: [SymbolPartition]

    public init(partitions: [SymbolPartition]) {
        self.partitions = partitions
    }
}
