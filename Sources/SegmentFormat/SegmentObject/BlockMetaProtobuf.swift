import BinaryCoding

// Byte-exact with vtproto `MarshalVT` (segment-object.md §4.3): ascending field numbers,
// zero scalars omitted, every dataset and string-table entry emitted, packed TOC and labels,
// int32/int64 as plain (sign-extended) varints, unknown fields re-emitted last.

extension BlockMeta {
    /// Bytes `encode(into:)` appends.
    public var encodedSize: Int {
        var n = 0
        n += varintFieldSize(UInt64(formatVersion))
        if !id.isEmpty { n += 1 + ByteWriter.uvarintSize(UInt64(id.count)) + id.count }
        n += varintFieldSize(signExtended(tenant))
        n += varintFieldSize(UInt64(shard))
        n += varintFieldSize(UInt64(compactionLevel))
        n += varintFieldSize(UInt64(bitPattern: minTimeMs))
        n += varintFieldSize(UInt64(bitPattern: maxTimeMs))
        n += varintFieldSize(signExtended(createdBy))
        n += varintFieldSize(size)
        for ds in datasets {
            let s = ds.encodedSize
            n += 1 + ByteWriter.uvarintSize(UInt64(s)) + s
        }
        for s in stringTable { n += 1 + ByteWriter.uvarintSize(UInt64(s.count)) + s.count }
        n += varintFieldSize(metadataOffset)
        return n + unknownFields.count
    }

    public func encode(into w: inout ByteWriter) {
        let start = w.count
        w.appendNonZeroVarintField(1, UInt64(formatVersion))
        if !id.isEmpty { w.appendBytesField(2, id.bytes) }
        w.appendNonZeroVarintField(3, signExtended(tenant))
        w.appendNonZeroVarintField(4, UInt64(shard))
        w.appendNonZeroVarintField(5, UInt64(compactionLevel))
        w.appendNonZeroVarintField(6, UInt64(bitPattern: minTimeMs))
        w.appendNonZeroVarintField(7, UInt64(bitPattern: maxTimeMs))
        w.appendNonZeroVarintField(8, signExtended(createdBy))
        w.appendNonZeroVarintField(9, size)
        for ds in datasets {
            w.appendTag(10, .lengthDelimited)
            w.appendUvarint(UInt64(ds.encodedSize))
            ds.encode(into: &w)
        }
        for s in stringTable { w.appendBytesField(11, s.bytes) }
        w.appendNonZeroVarintField(12, metadataOffset)
        w.append(contentsOf: unknownFields)
        assert(w.count - start == encodedSize, "BlockMeta size mismatch")
    }

    /// The protobuf as one array (DLQ `meta.pb`, tests).
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: encodedSize)
        encode(into: &w)
        return w.bytes
    }

    /// Decodes a `BlockMeta` protobuf; accepts packed and unpacked repeated scalars and
    /// keeps unknown fields. Offsets in errors are relative to `bytes`.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(DecodeError) {
        self.init()
        var p = ProtobufReader(bytes)
        while true {
            let fieldStart = p.offset
            guard let (number, wire) = try p.nextField() else { break }
            switch number {
            case 1: try p.expect(wire, .varint, field: number); formatVersion = UInt32(truncatingIfNeeded: try p.readVarint())
            case 2: try p.expect(wire, .lengthDelimited, field: number); id = ByteString(try p.readLengthDelimited())
            case 3: try p.expect(wire, .varint, field: number); tenant = Int32(truncatingIfNeeded: try p.readVarint())
            case 4: try p.expect(wire, .varint, field: number); shard = UInt32(truncatingIfNeeded: try p.readVarint())
            case 5: try p.expect(wire, .varint, field: number); compactionLevel = UInt32(truncatingIfNeeded: try p.readVarint())
            case 6: try p.expect(wire, .varint, field: number); minTimeMs = Int64(bitPattern: try p.readVarint())
            case 7: try p.expect(wire, .varint, field: number); maxTimeMs = Int64(bitPattern: try p.readVarint())
            case 8: try p.expect(wire, .varint, field: number); createdBy = Int32(truncatingIfNeeded: try p.readVarint())
            case 9: try p.expect(wire, .varint, field: number); size = try p.readVarint()
            case 10:
                try p.expect(wire, .lengthDelimited, field: number)
                let body = try p.readLengthDelimited()
                let base = p.offset - body.count
                do {
                    datasets.append(try DatasetMeta(decoding: body))
                } catch {
                    throw error.inRegion("datasets[\(datasets.count)]", base: base)
                }
            case 11: try p.expect(wire, .lengthDelimited, field: number); stringTable.append(ByteString(try p.readLengthDelimited()))
            case 12: try p.expect(wire, .varint, field: number); metadataOffset = try p.readVarint()
            default:
                try p.skip(wire)
                unknownFields.append(contentsOf: bytes[fieldStart ..< p.offset])
            }
        }
    }
}

extension DatasetMeta {
    public var encodedSize: Int {
        var n = 0
        n += varintFieldSize(signExtended(tenant))
        n += varintFieldSize(signExtended(name))
        n += varintFieldSize(UInt64(bitPattern: minTimeMs))
        n += varintFieldSize(UInt64(bitPattern: maxTimeMs))
        n += packedFieldSize(tableOfContents.lazy.map { $0 })
        n += varintFieldSize(size)
        n += packedInt32FieldSize(labels)
        n += varintFieldSize(UInt64(format))
        return n + unknownFields.count
    }

    public func encode(into w: inout ByteWriter) {
        w.appendNonZeroVarintField(1, signExtended(tenant))
        w.appendNonZeroVarintField(2, signExtended(name))
        w.appendNonZeroVarintField(3, UInt64(bitPattern: minTimeMs))
        w.appendNonZeroVarintField(4, UInt64(bitPattern: maxTimeMs))
        w.appendPackedVarints(5, tableOfContents)
        w.appendNonZeroVarintField(6, size)
        w.appendPackedInt32s(8, labels)
        w.appendNonZeroVarintField(9, UInt64(format))
        w.append(contentsOf: unknownFields)
    }

    public init(decoding bytes: UnsafeRawBufferPointer) throws(DecodeError) {
        self.init()
        var p = ProtobufReader(bytes)
        while true {
            let fieldStart = p.offset
            guard let (number, wire) = try p.nextField() else { break }
            switch number {
            case 1: try p.expect(wire, .varint, field: number); tenant = Int32(truncatingIfNeeded: try p.readVarint())
            case 2: try p.expect(wire, .varint, field: number); name = Int32(truncatingIfNeeded: try p.readVarint())
            case 3: try p.expect(wire, .varint, field: number); minTimeMs = Int64(bitPattern: try p.readVarint())
            case 4: try p.expect(wire, .varint, field: number); maxTimeMs = Int64(bitPattern: try p.readVarint())
            case 5: try p.readRepeatedVarint(wire) { v throws(DecodeError) in tableOfContents.append(v) }
            case 6: try p.expect(wire, .varint, field: number); size = try p.readVarint()
            case 8: try p.readRepeatedVarint(wire) { v throws(DecodeError) in labels.append(Int32(truncatingIfNeeded: v)) }
            case 9: try p.expect(wire, .varint, field: number); format = UInt32(truncatingIfNeeded: try p.readVarint())
            default:
                try p.skip(wire)
                unknownFields.append(contentsOf: bytes[fieldStart ..< p.offset])
            }
        }
    }
}

/// int32 fields go on the wire sign-extended to 64 bits (10 bytes when negative).
@inline(__always)
private func signExtended(_ v: Int32) -> UInt64 { UInt64(bitPattern: Int64(v)) }

@inline(__always)
private func varintFieldSize(_ v: UInt64) -> Int { v == 0 ? 0 : 1 + ByteWriter.uvarintSize(v) }

private func packedFieldSize<C: Collection>(_ values: C) -> Int where C.Element == UInt64 {
    if values.isEmpty { return 0 }
    var n = 0
    for v in values { n += ByteWriter.uvarintSize(v) }
    return 1 + ByteWriter.uvarintSize(UInt64(n)) + n
}

/// A loop over the array: the generic packed writer over a lazy map of the labels (one int32
/// each, three per profile type) ran unspecialized, a runtime metadata lookup per element.
private func packedInt32FieldSize(_ values: [Int32]) -> Int {
    if values.isEmpty { return 0 }
    var n = 0
    for v in values { n += ByteWriter.uvarintSize(signExtended(v)) }
    return 1 + ByteWriter.uvarintSize(UInt64(n)) + n
}

extension ByteWriter {
    /// Packed int32s, sign-extended; nothing when empty.
    mutating func appendPackedInt32s(_ field: UInt32, _ values: [Int32]) {
        guard !values.isEmpty else { return }
        var size = 0
        for v in values { size += ByteWriter.uvarintSize(signExtended(v)) }
        appendTag(field, .lengthDelimited)
        appendUvarint(UInt64(size))
        for v in values { appendUvarint(signExtended(v)) }
    }

    /// proto3 scalar: omitted when zero.
    @inline(__always)
    mutating func appendNonZeroVarintField(_ field: UInt32, _ value: UInt64) {
        if value != 0 { appendVarintField(field, value) }
    }
}
