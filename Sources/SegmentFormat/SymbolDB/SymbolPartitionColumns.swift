import BinaryCoding

/// One partition as the writer reads it: the tables of `SymbolPartition` with the strings and
/// the locations' lines flattened into columns, so a head can hand over its arenas as they are
/// instead of building an array per string and per location at every flush (symdb.md §5).
public struct SymbolPartitionColumns: Sendable {
    public var key: UInt64
    /// String `i` is `stringBytes[stringEnds[i - 1] ..< stringEnds[i]]` (from 0 for `i == 0`).
    public var stringBytes: [UInt8]
    public var stringEnds: [Int]
    public var mappings: [SymbolMapping]
    public var functions: [SymbolFunction]
    public var locationMapping: [UInt32]
    public var locationAddress: [UInt64]
    public var locationFolded: [Bool]
    /// Location `i`'s lines are `lineFunction/lineNumber[locationLineStart[i] ..< + locationLineCount[i]]`.
    public var locationLineStart: [UInt32]
    public var locationLineCount: [UInt32]
    public var lineFunction: [UInt32]
    public var lineNumber: [Int32]
    public var stackParents: [UInt32]
    public var stackLocations: [UInt32]
    public var stackChunks: [SymbolStackChunk]
    public var maxNodesPerChunk: UInt32

    public init(
        key: UInt64, stringBytes: [UInt8], stringEnds: [Int], mappings: [SymbolMapping], functions: [SymbolFunction],
        locationMapping: [UInt32], locationAddress: [UInt64], locationFolded: [Bool],
        locationLineStart: [UInt32], locationLineCount: [UInt32], lineFunction: [UInt32], lineNumber: [Int32],
        stackParents: [UInt32], stackLocations: [UInt32], stackChunks: [SymbolStackChunk], maxNodesPerChunk: UInt32
    ) {
        self.key = key
        self.stringBytes = stringBytes
        self.stringEnds = stringEnds
        self.mappings = mappings
        self.functions = functions
        self.locationMapping = locationMapping
        self.locationAddress = locationAddress
        self.locationFolded = locationFolded
        self.locationLineStart = locationLineStart
        self.locationLineCount = locationLineCount
        self.lineFunction = lineFunction
        self.lineNumber = lineNumber
        self.stackParents = stackParents
        self.stackLocations = stackLocations
        self.stackChunks = stackChunks
        self.maxNodesPerChunk = maxNodesPerChunk
    }

    /// The columns of a decoded (or hand-built) partition, for re-encoding.
    public init(_ p: SymbolPartition) {
        var bytes: [UInt8] = [], ends: [Int] = []
        bytes.reserveCapacity(p.strings.reduce(0) { $0 + $1.count })
        ends.reserveCapacity(p.strings.count)
        for s in p.strings {
            bytes.append(contentsOf: s.bytes)
            ends.append(bytes.count)
        }
        var lineStart: [UInt32] = [], lineCount: [UInt32] = [], functions: [UInt32] = [], lines: [Int32] = []
        let lineTotal = p.locations.reduce(0) { $0 + $1.lines.count }
        lineStart.reserveCapacity(p.locations.count)
        lineCount.reserveCapacity(p.locations.count)
        functions.reserveCapacity(lineTotal)
        lines.reserveCapacity(lineTotal)
        for location in p.locations {
            lineStart.append(UInt32(functions.count))
            lineCount.append(UInt32(location.lines.count))
            for line in location.lines {
                functions.append(line.functionID)
                lines.append(line.line)
            }
        }
        self.init(
            key: p.key, stringBytes: bytes, stringEnds: ends, mappings: p.mappings, functions: p.functions,
            locationMapping: p.locations.map(\.mappingID), locationAddress: p.locations.map(\.address),
            locationFolded: p.locations.map(\.isFolded), locationLineStart: lineStart, locationLineCount: lineCount,
            lineFunction: functions, lineNumber: lines, stackParents: p.stackParents, stackLocations: p.stackLocations,
            stackChunks: p.stackChunks, maxNodesPerChunk: p.maxNodesPerChunk)
    }

    public var stringCount: Int { stringEnds.count }
    public var locationCount: Int { locationMapping.count }

    /// The byte range of string `i` in `stringBytes`.
    func stringRange(_ i: Int) -> Range<Int> { (i == 0 ? 0 : stringEnds[i - 1]) ..< stringEnds[i] }

    /// Whether the columns agree in length and every range lies inside its column.
    public var isConsistent: Bool {
        let locations = locationMapping.count
        guard locationAddress.count == locations, locationFolded.count == locations,
              locationLineStart.count == locations, locationLineCount.count == locations,
              lineFunction.count == lineNumber.count, stackParents.count == stackLocations.count,
              zip(stringEnds, stringEnds.dropFirst()).allSatisfy({ $0 <= $1 }),
              (stringEnds.first ?? 0) >= 0, (stringEnds.last ?? 0) <= stringBytes.count else { return false }
        for i in 0 ..< locations where Int(locationLineStart[i]) + Int(locationLineCount[i]) > lineFunction.count {
            return false
        }
        return true
    }
}
