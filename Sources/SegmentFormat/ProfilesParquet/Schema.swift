/// Parquet physical types used by the profiles schema (parquet.thrift `Type`).
enum PhysicalType: Int32 {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// Parquet encodings (parquet.thrift `Encoding`).
enum Encoding: Int32 {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9
}

enum PageType: Int32 {
    case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3
}

/// The columns of the profiles table (profiles-parquet.md §3), in the current writer's order.
/// The raw value is the leaf position in the current 21-column schema.
enum ProfileColumn: Int, CaseIterable {
    case id, seriesIndex, stacktracePartition, totalValue
    case stacktraceID, value, labelKey, labelStr, labelNum, labelNumUnit, spanID, traceID
    case dropFrames, keepFrames, timeNanos, durationNanos, period, comments, defaultSampleType
    case annotationKey, annotationValue

    var path: [String] {
        switch self {
        case .id: ["ID"]
        case .seriesIndex: ["SeriesIndex"]
        case .stacktracePartition: ["StacktracePartition"]
        case .totalValue: ["TotalValue"]
        case .stacktraceID: ["Samples", "list", "element", "StacktraceID"]
        case .value: ["Samples", "list", "element", "Value"]
        case .labelKey: ["Samples", "list", "element", "Labels", "list", "element", "Key"]
        case .labelStr: ["Samples", "list", "element", "Labels", "list", "element", "Str"]
        case .labelNum: ["Samples", "list", "element", "Labels", "list", "element", "Num"]
        case .labelNumUnit: ["Samples", "list", "element", "Labels", "list", "element", "NumUnit"]
        case .spanID: ["Samples", "list", "element", "SpanID"]
        case .traceID: ["Samples", "list", "element", "TraceID"]
        case .dropFrames: ["DropFrames"]
        case .keepFrames: ["KeepFrames"]
        case .timeNanos: ["TimeNanos"]
        case .durationNanos: ["DurationNanos"]
        case .period: ["Period"]
        case .comments: ["Comments", "list", "element"]
        case .defaultSampleType: ["DefaultSampleType"]
        case .annotationKey: ["Annotations", "list", "element", "Key"]
        case .annotationValue: ["Annotations", "list", "element", "Value"]
        }
    }

    var physicalType: PhysicalType {
        switch self {
        case .id, .traceID: .fixedLenByteArray
        case .seriesIndex: .int32
        case .annotationKey, .annotationValue: .byteArray
        default: .int64
        }
    }

    var maxDefinitionLevel: UInt8 {
        switch self {
        case .id, .seriesIndex, .stacktracePartition, .totalValue, .timeNanos: 0
        case .stacktraceID, .value: 1
        case .labelKey: 2
        case .labelStr, .labelNum, .labelNumUnit: 3
        case .spanID, .traceID: 2
        case .dropFrames, .keepFrames, .durationNanos, .period, .defaultSampleType: 1
        case .comments, .annotationKey, .annotationValue: 1
        }
    }

    var maxRepetitionLevel: UInt8 {
        switch self {
        case .labelKey, .labelStr, .labelNum, .labelNumUnit: 2
        case .stacktraceID, .value, .spanID, .traceID, .comments, .annotationKey, .annotationValue: 1
        default: 0
        }
    }

    /// The data-page encoding the current writer uses (§3 table).
    var dataEncoding: Encoding {
        switch self {
        case .id, .timeNanos, .durationNanos, .period, .defaultSampleType: .plain
        case .spanID, .traceID: .rleDictionary
        case .annotationKey, .annotationValue: .deltaLengthByteArray
        default: .deltaBinaryPacked
        }
    }

    /// Unsigned columns order statistics as unsigned (§5.1 "logical order").
    var isUnsigned: Bool {
        switch self {
        case .seriesIndex, .stacktracePartition, .totalValue, .stacktraceID, .spanID: true
        default: false
        }
    }

    /// Width of a fixed-size value in bytes (PLAIN form and statistics).
    var fixedWidth: Int {
        switch physicalType {
        case .int32: 4
        case .fixedLenByteArray: 16
        default: 8
        }
    }
}

/// One node of the schema tree as written to `FileMetaData.schema` (§3 "SchemaElement encoding quirks").
struct SchemaNode {
    enum Repetition: Int32 { case required = 0, optional = 1, repeated = 2 }
    enum Logical { case none, uuid, list, string, timestampNanos, integer(bits: Int8, signed: Bool) }

    var name: String
    var repetition: Repetition?
    var physicalType: PhysicalType?
    var typeLength: Int32?
    var convertedType: Int32?
    var logical: Logical
    var children: Int

    static let convertedUTF8: Int32 = 0, convertedList: Int32 = 3, convertedUInt32: Int32 = 13
    static let convertedUInt64: Int32 = 14, convertedInt64: Int32 = 18

    /// The current 21-leaf schema, depth-first, root first.
    static let currentSchema: [SchemaNode] = {
        func leaf(_ name: String, _ t: PhysicalType, _ rep: Repetition, _ logical: Logical) -> SchemaNode {
            var converted: Int32?
            switch logical {
            case .integer(32, false): converted = convertedUInt32
            case .integer(64, false): converted = convertedUInt64
            case .integer(64, true): converted = convertedInt64
            case .string: converted = convertedUTF8
            default: converted = nil
            }
            // parquet-go writes the type's bit length for INT32/INT64, the size for FLBA, nothing for BYTE_ARRAY.
            let length: Int32? = t == .int32 ? 32 : t == .int64 ? 64 : t == .fixedLenByteArray ? 16 : nil
            return SchemaNode(name: name, repetition: rep, physicalType: t, typeLength: length,
                              convertedType: converted, logical: logical, children: 0)
        }
        func group(_ name: String, _ rep: Repetition, children: Int, list: Bool) -> SchemaNode {
            SchemaNode(name: name, repetition: rep, physicalType: nil, typeLength: nil,
                       convertedType: list ? convertedList : nil, logical: list ? .list : .none, children: children)
        }
        let u64 = Logical.integer(bits: 64, signed: false), i64 = Logical.integer(bits: 64, signed: true)
        return [
            SchemaNode(name: "Profile", repetition: nil, physicalType: nil, typeLength: nil,
                       convertedType: nil, logical: .none, children: 13),
            leaf("ID", .fixedLenByteArray, .required, .uuid),
            leaf("SeriesIndex", .int32, .required, .integer(bits: 32, signed: false)),
            leaf("StacktracePartition", .int64, .required, u64),
            leaf("TotalValue", .int64, .required, u64),
            group("Samples", .required, children: 1, list: true),
            group("list", .repeated, children: 1, list: false),
            group("element", .required, children: 5, list: false),
            leaf("StacktraceID", .int64, .required, u64),
            leaf("Value", .int64, .required, i64),
            group("Labels", .required, children: 1, list: true),
            group("list", .repeated, children: 1, list: false),
            group("element", .required, children: 4, list: false),
            leaf("Key", .int64, .required, i64),
            leaf("Str", .int64, .optional, i64),
            leaf("Num", .int64, .optional, i64),
            leaf("NumUnit", .int64, .optional, i64),
            leaf("SpanID", .int64, .optional, u64),
            leaf("TraceID", .fixedLenByteArray, .optional, .none),
            leaf("DropFrames", .int64, .optional, i64),
            leaf("KeepFrames", .int64, .optional, i64),
            leaf("TimeNanos", .int64, .required, .timestampNanos),
            leaf("DurationNanos", .int64, .optional, i64),
            leaf("Period", .int64, .optional, i64),
            group("Comments", .required, children: 1, list: true),
            group("list", .repeated, children: 1, list: false),
            leaf("element", .int64, .required, i64),
            leaf("DefaultSampleType", .int64, .optional, i64),
            group("Annotations", .required, children: 1, list: true),
            group("list", .repeated, children: 1, list: false),
            group("element", .required, children: 2, list: false),
            leaf("Key", .byteArray, .required, .string),
            leaf("Value", .byteArray, .required, .string),
        ]
    }()
}
