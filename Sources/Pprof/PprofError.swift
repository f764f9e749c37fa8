import BinaryCoding

/// Why a pprof `Profile` was refused. Wire-level problems carry the `DecodeError` (with offset);
/// reference problems name the element, since upstream would panic on them at ingest
/// (symdb.md §3.1, profiles-parquet.md §2.3).
public enum PprofError: Error, Equatable, CustomStringConvertible, Sendable {
    case wire(DecodeError)
    /// Larger than the decoder's 32-bit string offsets can address.
    case profileTooLarge(bytes: Int)
    case valueCountMismatch(sample: Int, values: Int, sampleTypes: Int)
    case stringIndexOutOfRange(field: String, index: Int64, stringCount: Int)
    /// A string that names a profile type, and so reaches the segment's metadata, is not UTF-8.
    case invalidUTF8(field: String, index: Int64)
    case missingLocation(sample: Int, locationID: UInt64)
    case missingMapping(location: Int, mappingID: UInt64)
    case missingFunction(location: Int, functionID: UInt64)

    public var description: String {
        switch self {
        case .wire(let e): "pprof: \(e)"
        case .profileTooLarge(let n): "pprof: profile of \(n) bytes exceeds 4 GiB"
        case let .valueCountMismatch(s, v, t): "pprof: sample \(s) has \(v) values, expected \(t) (one per sample type)"
        case let .stringIndexOutOfRange(f, i, n): "pprof: \(f) references string \(i), string table has \(n)"
        case let .invalidUTF8(f, i): "pprof: \(f) references string \(i), which is not valid UTF-8"
        case let .missingLocation(s, id): "pprof: sample \(s) references missing location id \(id)"
        case let .missingMapping(l, id): "pprof: location \(l) references missing mapping id \(id)"
        case let .missingFunction(l, id): "pprof: location \(l) references missing function id \(id)"
        }
    }
}

extension PushError {
    /// §1.3 check 4: an undecodable profile is `INVALID_ARGUMENT`.
    public init(_ error: PprofError) {
        self.init(.profileUndecodable, error.description)
    }
}
