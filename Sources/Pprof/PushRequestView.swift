import BinaryCoding

/// A name/value pair viewed in place: `types.v1.LabelPair` or `types.v1.ProfileAnnotation`
/// (both are `1 string, 2 string`; ingest-and-ops.md §1.2).
public struct BytePairView {
    public var name: UnsafeRawBufferPointer
    public var value: UnsafeRawBufferPointer
}

/// `segmentwriter.v1.PushRequest` decoded in place (ingest-and-ops.md §1.2, §1.3).
/// Every view points into the message buffer, which the caller keeps alive.
/// `init` checks the whole message once (wire format, UTF-8, tenant, profile id), so the
/// repeated fields can be re-walked lazily by `labels` and `annotations` without error paths
/// and without storing them anywhere (no allocation per Push).
public struct PushRequestView {
    /// grpc-go's default server receive limit (ingest-and-ops.md §5.2).
    public static let defaultMaxMessageBytes = 100 << 20

    public let message: UnsafeRawBufferPointer
    public private(set) var tenantID = UnsafeRawBufferPointer(start: nil, count: 0)
    /// pprof bytes, raw or gzip (§2.1); decoded by `ProfileInflater` and `PprofDecoder`.
    public private(set) var profile = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Exactly 16 bytes (RFC 4122 byte order) once `init` succeeded.
    public private(set) var profileID = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Any value is accepted, 0 included (§1.2).
    public private(set) var shard: UInt32 = 0
    public private(set) var labelCount = 0
    public private(set) var annotationCount = 0

    /// Checks in the order of §1.3: message decodable (INTERNAL, as grpc-go's codec rejects
    /// it before the handler runs), then `no org id`, then `invalid UUID`.
    public init(_ message: UnsafeRawBufferPointer, maxMessageBytes: Int = defaultMaxMessageBytes) throws(PushError) {
        self.message = message
        guard message.count <= maxMessageBytes else {
            throw PushError(.requestTooLarge,
                            "grpc: received message larger than max (\(message.count) vs. \(maxMessageBytes))")
        }
        do {
            try parse()
        } catch let error {
            throw PushError(.requestUndecodable, "grpc: error unmarshalling request: proto: cannot parse invalid wire-format data (\(error))")
        }
        guard tenantID.count > 0 else { throw PushError(.missingTenant, "no org id") }
        guard profileID.count == 16 else {
            throw PushError(.invalidProfileID, "invalid UUID (got \(profileID.count) bytes)")
        }
    }

    /// Proto3 as the Go runtime reads it: the last occurrence of a scalar wins, unknown
    /// fields and fields with an unexpected wire type are skipped.
    private mutating func parse() throws(DecodeError) {
        var r = ProtobufReader(message)
        while let (number, wire) = try r.nextField() {
            switch (number, wire) {
            case (1, .lengthDelimited):
                tenantID = try r.readLengthDelimited()
                guard isValidUTF8(tenantID) else {
                    throw Self.invalidUTF8("segmentwriter.v1.PushRequest.tenant_id", at: r.offset)
                }
            case (2, .lengthDelimited):
                try Self.checkPair(try r.readLengthDelimited(), "types.v1.LabelPair", at: r.offset)
                labelCount += 1
            case (4, .lengthDelimited):
                profile = try r.readLengthDelimited()
            case (5, .lengthDelimited):
                profileID = try r.readLengthDelimited()
            case (6, .varint):
                shard = UInt32(truncatingIfNeeded: try r.readVarint())
            case (7, .lengthDelimited):
                try Self.checkPair(try r.readLengthDelimited(), "types.v1.ProfileAnnotation", at: r.offset)
                annotationCount += 1
            default:
                try r.skip(wire)
            }
        }
    }

    /// The field name is only built on the error path: valid pairs cost no allocation.
    private static func checkPair(_ bytes: UnsafeRawBufferPointer, _ type: StaticString, at offset: Int) throws(DecodeError) {
        var r = ProtobufReader(bytes)
        while let (number, wire) = try r.nextField() {
            if wire == .lengthDelimited, number == 1 || number == 2 {
                guard isValidUTF8(try r.readLengthDelimited()) else {
                    throw invalidUTF8("\(type).\(number == 1 ? "name" : "value")", at: offset)
                }
            } else {
                try r.skip(wire)
            }
        }
    }

    private static func invalidUTF8(_ field: String, at offset: Int) -> DecodeError {
        DecodeError(.malformed, at: offset, "field \(field) contains invalid UTF-8")
    }

    /// Series labels in wire order (the distributor sends them sorted by name).
    public var labels: PairSequence { PairSequence(message: message, field: 2) }
    /// Profile annotations in wire order (§1.2).
    public var annotations: PairSequence { PairSequence(message: message, field: 7) }

    /// The profile id as two big-endian halves (UUID byte order), handy as a key.
    public var profileIDHalves: (high: UInt64, low: UInt64) {
        (UInt64(bigEndian: profileID.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
         UInt64(bigEndian: profileID.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }
}

extension PushRequestView {
    /// Re-walks one repeated pair field of an already validated message.
    public struct PairSequence: Sequence {
        let message: UnsafeRawBufferPointer
        let field: UInt32

        public func makeIterator() -> Iterator { Iterator(reader: ProtobufReader(message), field: field) }

        public struct Iterator: IteratorProtocol {
            var reader: ProtobufReader
            let field: UInt32

            /// `init` already parsed every byte, so a failure here is a broken invariant.
            public mutating func next() -> BytePairView? {
                do {
                    while let (number, wire) = try reader.nextField() {
                        guard number == field, wire == .lengthDelimited else {
                            try reader.skip(wire)
                            continue
                        }
                        return try Self.pair(try reader.readLengthDelimited())
                    }
                    return nil
                } catch {
                    preconditionFailure("PushRequestView re-walk failed after validation: \(error)")
                }
            }

            static func pair(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> BytePairView {
                var r = ProtobufReader(bytes)
                let empty = UnsafeRawBufferPointer(start: nil, count: 0)
                var pair = BytePairView(name: empty, value: empty)
                while let (number, wire) = try r.nextField() {
                    switch (number, wire) {
                    case (1, .lengthDelimited): pair.name = try r.readLengthDelimited()
                    case (2, .lengthDelimited): pair.value = try r.readLengthDelimited()
                    default: try r.skip(wire)
                    }
                }
                return pair
            }
        }
    }
}
