/// Element types of the columns `PprofDecoder` keeps. Field names and numbers follow
/// `perftools.profiles.Profile` (profile.proto); string fields are string-table indices.

/// A string-table entry: `length` bytes at `offset` of the decoded profile bytes (§2.1 step 3:
/// raw bytes, UTF-8 is not checked).
public struct StringRef: Equatable, Sendable {
    public var offset: UInt32
    public var length: UInt32
}

/// `ValueType`: 1 type, 2 unit.
public struct ValueTypeRef: Equatable, Sendable {
    public var type: Int64 = 0
    public var unit: Int64 = 0

    public init(type: Int64 = 0, unit: Int64 = 0) {
        self.type = type
        self.unit = unit
    }
}

/// `Label`: 1 key, 2 str, 3 num, 4 num_unit.
public struct SampleLabel: Equatable, Sendable {
    public var key: Int64 = 0
    public var str: Int64 = 0
    public var num: Int64 = 0
    public var numUnit: Int64 = 0

    public init(key: Int64 = 0, str: Int64 = 0, num: Int64 = 0, numUnit: Int64 = 0) {
        self.key = key
        self.str = str
        self.num = num
        self.numUnit = numUnit
    }
}

/// `Mapping`: 1 id … 10 has_inline_frames.
public struct MappingRecord: Equatable, Sendable {
    public var id: UInt64 = 0
    public var memoryStart: UInt64 = 0
    public var memoryLimit: UInt64 = 0
    public var fileOffset: UInt64 = 0
    public var filename: Int64 = 0
    public var buildID: Int64 = 0
    public var hasFunctions = false
    public var hasFilenames = false
    public var hasLineNumbers = false
    public var hasInlineFrames = false

    public init() {}
}

/// `Location`: 1 id, 2 mapping_id, 3 address, 4 line (flattened into `lines[lineStart...]`), 5 is_folded.
public struct LocationRecord: Equatable, Sendable {
    public var id: UInt64 = 0
    public var mappingID: UInt64 = 0
    public var address: UInt64 = 0
    public var isFolded = false
    public var lineStart: UInt32 = 0
    public var lineCount: UInt32 = 0
    /// Index into `mappings` after `resolveReferences()`; `noMapping` for `mapping_id` 0.
    public var mappingIndex: UInt32 = LocationRecord.noMapping

    public static let noMapping = UInt32.max

    public init() {}
}

/// `Line`: 1 function_id, 2 line, 3 column.
public struct LineRecord: Equatable, Sendable {
    public var functionID: UInt64 = 0
    public var line: Int64 = 0
    public var column: Int64 = 0
    /// Index into `functions` after `resolveReferences()`.
    public var functionIndex: UInt32 = 0

    public init(functionID: UInt64 = 0, line: Int64 = 0, column: Int64 = 0) {
        self.functionID = functionID
        self.line = line
        self.column = column
    }
}

/// `Function`: 1 id, 2 name, 3 system_name, 4 filename, 5 start_line.
public struct FunctionRecord: Equatable, Sendable {
    public var id: UInt64 = 0
    public var name: Int64 = 0
    public var systemName: Int64 = 0
    public var filename: Int64 = 0
    public var startLine: Int64 = 0

    public init() {}
}
