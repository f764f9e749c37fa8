import BinaryCoding

/// Decodes a pprof `perftools.profiles.Profile` (ingest-and-ops.md §2.1 step 3) into columns it
/// keeps between calls: each `decode` resets the counts and keeps the capacity, so in steady
/// state a profile costs no heap allocation. Strings stay in the caller's bytes as
/// (offset, length) views. One per core; not thread-safe.
///
/// Reads like vtproto's `UnmarshalVT`: unknown fields are skipped, repeated scalars may be packed
/// or not, a known field with the wrong wire type is an error, a repeated embedded message
/// (`period_type`) merges into the earlier one, string bytes are not UTF-8 checked.
///
/// The columns live in one struct (`PprofTables`) that `decode` and `resolveReferences` mutate
/// through a single `inout` access: appending to arrays stored directly on the class cost a
/// dynamic exclusivity check (and a uniqueness check through the class) per element, about
/// 40 % of the decode time (Benchmarks/README.md).
public final class PprofDecoder {
    /// The columns of the last `decode`. Consumers on the hot path (the accumulator) take this
    /// struct once per profile and read the columns directly, instead of copying them.
    public internal(set) var tables = PprofTables()

    public init() {}

    /// The profile bytes of the last `decode`; every `StringRef` points into them.
    public var bytes: UnsafeRawBufferPointer { tables.bytes }
    public var strings: [StringRef] { tables.strings }
    public var sampleTypes: [ValueTypeRef] { tables.sampleTypes }
    /// Sample `i` owns `sampleLocationIDs[sampleLocationStarts[i] ..< sampleLocationStarts[i + 1]]`
    /// (leaf first), and likewise for values and labels.
    public var sampleLocationStarts: [UInt32] { tables.sampleLocationStarts }
    public var sampleLocationIDs: [UInt64] { tables.sampleLocationIDs }
    /// Parallel to `sampleLocationIDs`: index into `locations`, filled by `resolveReferences()`.
    public var sampleLocationIndices: [UInt32] { tables.sampleLocationIndices }
    public var sampleValueStarts: [UInt32] { tables.sampleValueStarts }
    public var sampleValues: [Int64] { tables.sampleValues }
    public var sampleLabelStarts: [UInt32] { tables.sampleLabelStarts }
    public var sampleLabels: [SampleLabel] { tables.sampleLabels }
    public var mappings: [MappingRecord] { tables.mappings }
    public var locations: [LocationRecord] { tables.locations }
    /// Lines of all locations; location `i` owns `lines[lineStart ..< lineStart + lineCount]`.
    public var lines: [LineRecord] { tables.lines }
    public var functions: [FunctionRecord] { tables.functions }
    public var dropFrames: Int64 { tables.dropFrames }
    public var keepFrames: Int64 { tables.keepFrames }
    public var timeNanos: Int64 { tables.timeNanos }
    public var durationNanos: Int64 { tables.durationNanos }
    /// nil when the profile has no `period_type` message.
    public var periodType: ValueTypeRef? { tables.periodType }
    public var period: Int64 { tables.period }
    public var comments: [Int64] { tables.comments }
    public var defaultSampleType: Int64 { tables.defaultSampleType }
    /// symdb.md §3.2: `true` for string indices `ZeroLabelStrings` keeps (sample types, functions,
    /// mappings, comments, drop/keep frames); the head blanks the others. Filled by `resolveReferences()`.
    public var symbolStringMask: [Bool] { tables.symbolStringMask }

    public var sampleCount: Int { tables.sampleLocationStarts.count - 1 }

    // MARK: Views

    /// String-table entry `index`; index 0 of an empty table reads as "".
    public func string(_ index: Int) -> UnsafeRawBufferPointer { tables.string(index) }

    public func locationIDs(ofSample i: Int) -> ArraySlice<UInt64> {
        tables.sampleLocationIDs[Int(tables.sampleLocationStarts[i]) ..< Int(tables.sampleLocationStarts[i + 1])]
    }

    public func locationIndices(ofSample i: Int) -> ArraySlice<UInt32> {
        tables.sampleLocationIndices[Int(tables.sampleLocationStarts[i]) ..< Int(tables.sampleLocationStarts[i + 1])]
    }

    public func values(ofSample i: Int) -> ArraySlice<Int64> {
        tables.sampleValues[Int(tables.sampleValueStarts[i]) ..< Int(tables.sampleValueStarts[i + 1])]
    }

    public func labels(ofSample i: Int) -> ArraySlice<SampleLabel> {
        tables.sampleLabels[Int(tables.sampleLabelStarts[i]) ..< Int(tables.sampleLabelStarts[i + 1])]
    }

    public func lines(ofLocation i: Int) -> ArraySlice<LineRecord> {
        let l = tables.locations[i]
        return tables.lines[Int(l.lineStart) ..< Int(l.lineStart) + Int(l.lineCount)]
    }

    /// The first string-table index holding exactly `value`, if any (e.g. `"span_id"`, profiles-parquet.md §2.5).
    public func firstStringIndex(of value: UnsafeRawBufferPointer) -> Int? {
        for i in tables.strings.indices where tables.strings[i].length == value.count {
            if tables.string(i).elementsEqual(value) { return i }
        }
        return nil
    }

    /// Decodes `profile` (already inflated) and keeps views into it: the caller keeps the bytes
    /// alive and unchanged until the next `decode`. Structure only; call `resolveReferences()`
    /// before handing the profile to ingestion. After a throw the columns hold a partial profile
    /// and must not be read.
    public func decode(_ profile: UnsafeRawBufferPointer) throws(PprofError) {
        try tables.decode(profile)
    }
}

/// The decoded columns of one profile and the code that fills them; see `PprofDecoder` for
/// what each column holds. Read-only outside this module. After `resolveReferences()`
/// (`referencesResolved`) every string index is inside `strings` (or 0), every sample has one
/// value per sample type, and `sampleLocationIndices`, `LocationRecord.mappingIndex` and
/// `LineRecord.functionIndex` are valid table indices: readers may index without checks.
public struct PprofTables {
    public internal(set) var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    public internal(set) var strings: [StringRef] = []
    public internal(set) var sampleTypes: [ValueTypeRef] = []
    public internal(set) var sampleLocationStarts: [UInt32] = [0]
    public internal(set) var sampleLocationIDs: [UInt64] = []
    public internal(set) var sampleLocationIndices: [UInt32] = []
    public internal(set) var sampleValueStarts: [UInt32] = [0]
    public internal(set) var sampleValues: [Int64] = []
    public internal(set) var sampleLabelStarts: [UInt32] = [0]
    public internal(set) var sampleLabels: [SampleLabel] = []
    public internal(set) var mappings: [MappingRecord] = []
    public internal(set) var locations: [LocationRecord] = []
    public internal(set) var lines: [LineRecord] = []
    public internal(set) var functions: [FunctionRecord] = []
    public internal(set) var dropFrames: Int64 = 0
    public internal(set) var keepFrames: Int64 = 0
    public internal(set) var timeNanos: Int64 = 0
    public internal(set) var durationNanos: Int64 = 0
    public internal(set) var periodType: ValueTypeRef?
    public internal(set) var period: Int64 = 0
    public internal(set) var comments: [Int64] = []
    public internal(set) var defaultSampleType: Int64 = 0
    public internal(set) var symbolStringMask: [Bool] = []
    /// Set by a successful `resolveReferences()`, cleared by `decode`.
    public internal(set) var referencesResolved = false
    /// Where packed varint runs are decoded before one bulk append; only grows (to the
    /// longest run seen, bounded by the profile size).
    var varintScratch: [UInt64] = []

    // Id → index maps, used only when a table's ids are not 1...n in order.
    var mappingIndexByID: [UInt64: UInt32] = [:]
    var functionIndexByID: [UInt64: UInt32] = [:]
    var locationIndexByID: [UInt64: UInt32] = [:]

    public init() {}

    @inlinable public var sampleCount: Int { sampleLocationStarts.count - 1 }
    @inlinable public var typeCount: Int { sampleTypes.count }

    /// String-table entry `index`; index 0 of an empty table reads as "".
    @inlinable @inline(__always)
    public func string(_ index: Int) -> UnsafeRawBufferPointer {
        if index == 0, strings.isEmpty { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let s = strings[index]
        return UnsafeRawBufferPointer(start: bytes.baseAddress! + Int(s.offset), count: Int(s.length))
    }

    @inlinable @inline(__always)
    public func string(_ index: Int64) -> UnsafeRawBufferPointer { string(Int(index)) }

    // MARK: Decoding

    mutating func decode(_ profile: UnsafeRawBufferPointer) throws(PprofError) {
        reset()
        guard profile.count <= Int(UInt32.max) else { throw .profileTooLarge(bytes: profile.count) }
        bytes = profile
        do {
            try decodeProfile()
        } catch {
            throw .wire(error.inRegion("pprof Profile"))
        }
    }

    private mutating func reset() {
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        strings.removeAll(keepingCapacity: true)
        sampleTypes.removeAll(keepingCapacity: true)
        sampleLocationStarts.removeAll(keepingCapacity: true)
        sampleLocationStarts.append(0)
        sampleValueStarts.removeAll(keepingCapacity: true)
        sampleValueStarts.append(0)
        sampleLabelStarts.removeAll(keepingCapacity: true)
        sampleLabelStarts.append(0)
        sampleLocationIDs.removeAll(keepingCapacity: true)
        sampleLocationIndices.removeAll(keepingCapacity: true)
        sampleValues.removeAll(keepingCapacity: true)
        sampleLabels.removeAll(keepingCapacity: true)
        mappings.removeAll(keepingCapacity: true)
        locations.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        functions.removeAll(keepingCapacity: true)
        comments.removeAll(keepingCapacity: true)
        symbolStringMask.removeAll(keepingCapacity: true)
        referencesResolved = false
        dropFrames = 0; keepFrames = 0; timeNanos = 0; durationNanos = 0
        periodType = nil; period = 0; defaultSampleType = 0
    }

    private mutating func decodeProfile() throws(DecodeError) {
        var r = ProtobufReader(bytes)
        while let (field, wire) = try r.nextFieldFast() {
            switch field {
            case 1: sampleTypes.append(try valueType(embedded(&r, wire, field), into: ValueTypeRef()))
            case 2: try decodeSample(embedded(&r, wire, field))
            case 3: mappings.append(try mapping(embedded(&r, wire, field)))
            case 4: try decodeLocation(embedded(&r, wire, field))
            case 5: functions.append(try function(embedded(&r, wire, field)))
            case 6:
                let s = try embedded(&r, wire, field)
                strings.append(StringRef(offset: UInt32(offset(of: s)), length: UInt32(s.count)))
            case 7: dropFrames = try int64(&r, wire, field)
            case 8: keepFrames = try int64(&r, wire, field)
            case 9: timeNanos = try int64(&r, wire, field)
            case 10: durationNanos = try int64(&r, wire, field)
            case 11: periodType = try valueType(embedded(&r, wire, field), into: periodType ?? ValueTypeRef())
            case 12: period = try int64(&r, wire, field)
            case 13: try appendRepeated(&r, wire, field, into: &comments, scratch: &varintScratch)
            case 14: defaultSampleType = try int64(&r, wire, field)
            default: try r.skip(wire)
            }
        }
    }

    /// Names the nested message an error came from; offsets become absolute in the profile
    /// at the innermost level (where the error has no context yet) and stay so outwards.
    private func region(_ name: String, _ message: UnsafeRawBufferPointer, _ error: DecodeError) -> DecodeError {
        error.context.isEmpty ? error.inRegion(name, base: offset(of: message)) : error.inRegion(name)
    }

    private func offset(of view: UnsafeRawBufferPointer) -> Int {
        guard let b = bytes.baseAddress, let v = view.baseAddress else { return 0 }
        return v - b
    }

    private func valueType(_ m: UnsafeRawBufferPointer, into start: ValueTypeRef) throws(DecodeError) -> ValueTypeRef {
        var r = ProtobufReader(m)
        do {
            var v = start
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.type = try int64(&r, wire, field)
                case 2: v.unit = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
            return v
        } catch {
            throw region("ValueType", m, error)
        }
    }

    private mutating func decodeSample(_ m: UnsafeRawBufferPointer) throws(DecodeError) {
        var r = ProtobufReader(m)
        do {
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: try appendRepeated(&r, wire, field, into: &sampleLocationIDs, scratch: &varintScratch)
                case 2: try appendRepeated(&r, wire, field, into: &sampleValues, scratch: &varintScratch)
                case 3: sampleLabels.append(try label(embedded(&r, wire, field)))
                default: try r.skip(wire)
                }
            }
        } catch {
            throw region("Sample", m, error)
        }
        // Counts are bounded by the input size, which is below 2^32 (checked in `decode`).
        sampleLocationStarts.append(UInt32(sampleLocationIDs.count))
        sampleValueStarts.append(UInt32(sampleValues.count))
        sampleLabelStarts.append(UInt32(sampleLabels.count))
    }

    private func label(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> SampleLabel {
        var r = ProtobufReader(m)
        do {
            var l = SampleLabel()
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: l.key = try int64(&r, wire, field)
                case 2: l.str = try int64(&r, wire, field)
                case 3: l.num = try int64(&r, wire, field)
                case 4: l.numUnit = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
            return l
        } catch {
            throw region("Label", m, error)
        }
    }

    private func mapping(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> MappingRecord {
        var r = ProtobufReader(m)
        do {
            var v = MappingRecord()
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.id = try uint64(&r, wire, field)
                case 2: v.memoryStart = try uint64(&r, wire, field)
                case 3: v.memoryLimit = try uint64(&r, wire, field)
                case 4: v.fileOffset = try uint64(&r, wire, field)
                case 5: v.filename = try int64(&r, wire, field)
                case 6: v.buildID = try int64(&r, wire, field)
                case 7: v.hasFunctions = try uint64(&r, wire, field) != 0
                case 8: v.hasFilenames = try uint64(&r, wire, field) != 0
                case 9: v.hasLineNumbers = try uint64(&r, wire, field) != 0
                case 10: v.hasInlineFrames = try uint64(&r, wire, field) != 0
                default: try r.skip(wire)
                }
            }
            return v
        } catch {
            throw region("Mapping", m, error)
        }
    }

    private mutating func decodeLocation(_ m: UnsafeRawBufferPointer) throws(DecodeError) {
        var v = LocationRecord()
        v.lineStart = UInt32(lines.count)
        var r = ProtobufReader(m)
        do {
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.id = try uint64(&r, wire, field)
                case 2: v.mappingID = try uint64(&r, wire, field)
                case 3: v.address = try uint64(&r, wire, field)
                case 4: lines.append(try line(embedded(&r, wire, field)))
                case 5: v.isFolded = try uint64(&r, wire, field) != 0
                default: try r.skip(wire)
                }
            }
        } catch {
            throw region("Location", m, error)
        }
        v.lineCount = UInt32(lines.count) - v.lineStart
        locations.append(v)
    }

    private func line(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> LineRecord {
        var r = ProtobufReader(m)
        do {
            var v = LineRecord()
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.functionID = try uint64(&r, wire, field)
                case 2: v.line = try int64(&r, wire, field)
                case 3: v.column = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
            return v
        } catch {
            throw region("Line", m, error)
        }
    }

    private func function(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> FunctionRecord {
        var r = ProtobufReader(m)
        do {
            var v = FunctionRecord()
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.id = try uint64(&r, wire, field)
                case 2: v.name = try int64(&r, wire, field)
                case 3: v.systemName = try int64(&r, wire, field)
                case 4: v.filename = try int64(&r, wire, field)
                case 5: v.startLine = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
            return v
        } catch {
            throw region("Function", m, error)
        }
    }
}

// MARK: Field readers (vtproto: a known field with another wire type is an error)

@inline(__always)
private func wrongWire(_ r: ProtobufReader, _ wire: WireType, _ field: UInt32) -> DecodeError {
    DecodeError(.malformed, at: r.offset, "proto: wrong wireType = \(wire.rawValue) for field \(field)")
}

@inline(__always)
private func uint64(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> UInt64 {
    guard wire == .varint else { throw wrongWire(r, wire, field) }
    return try r.readVarintFast()
}

@inline(__always)
private func int64(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> Int64 {
    Int64(bitPattern: try uint64(&r, wire, field))
}

@inline(__always)
private func embedded(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> UnsafeRawBufferPointer {
    guard wire == .lengthDelimited else { throw wrongWire(r, wire, field) }
    return try r.readLengthDelimitedFast()
}

// MARK: One-byte fast paths

/// Keys, small varints and short lengths are one byte in almost every field of a pprof; these
/// read them inline and hand anything else to `ProtobufReader` (same values, same errors).
/// The generic readers are calls into BinaryCoding per field, a tenth of the decode time.
extension ProtobufReader {
    @inline(__always)
    mutating func nextFieldFast() throws(DecodeError) -> (number: UInt32, wire: WireType)? {
        let o = reader.offset
        if o < reader.bytes.count {
            let key = reader.bytes.load(fromByteOffset: o, as: UInt8.self)
            // A one-byte key with field number ≥ 1 and a wire type `nextField` accepts.
            if key < 0x80, key >= 8, let wire = WireType(rawValue: key & 7) {
                reader.offset = o + 1
                return (UInt32(key >> 3), wire)
            }
        }
        return try nextField()
    }

    @inline(__always)
    mutating func readVarintFast() throws(DecodeError) -> UInt64 {
        let o = reader.offset
        if o < reader.bytes.count {
            let b = reader.bytes.load(fromByteOffset: o, as: UInt8.self)
            if b < 0x80 {
                reader.offset = o + 1
                return UInt64(b)
            }
        }
        return try readVarint()
    }

    @inline(__always)
    mutating func readLengthDelimitedFast() throws(DecodeError) -> UnsafeRawBufferPointer {
        let o = reader.offset
        let count = reader.bytes.count
        if o < count {
            let n = Int(reader.bytes.load(fromByteOffset: o, as: UInt8.self))
            if n < 0x80, n <= count - o - 1 {
                reader.offset = o + 1 + n
                return UnsafeRawBufferPointer(rebasing: reader.bytes[o + 1 ..< o + 1 + n])
            }
        }
        return try readLengthDelimited()
    }
}

/// A repeated 64-bit varint field, one element (unpacked) or a packed run.
@inline(__always)
private func appendRepeated<T: FixedWidthInteger>(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32,
                                                  into column: inout [T], scratch: inout [UInt64]) throws(DecodeError) {
    switch wire {
    case .varint:
        column.append(T(truncatingIfNeeded: try r.readVarintFast()))
    case .lengthDelimited:
        try appendPacked(try r.readLengthDelimitedFast(), into: &column, scratch: &scratch)
    default:
        throw wrongWire(r, wire, field)
    }
}

/// Decodes a packed varint run into `column`: a tight loop writes each varint through a
/// pointer into `scratch` (grown to the payload length, an upper bound of the count), then
/// one bulk append copies them. Appending element by element, a count pass followed by
/// `append(contentsOf:)` of a `Sequence`, or growing the column and trimming it, cost several
/// times the varint work (location ids are most of a pprof's bytes). A varint longer than 9
/// bytes or cut off at the end takes the element-by-element `ByteReader` path instead, so
/// values and errors stay the same.
@inline(__always)
private func appendPacked<T: FixedWidthInteger>(_ payload: UnsafeRawBufferPointer, into column: inout [T],
                                                scratch: inout [UInt64]) throws(DecodeError) {
    precondition(MemoryLayout<T>.stride == MemoryLayout<UInt64>.stride, "64-bit columns only")
    let bound = payload.count
    guard bound > 0 else { return }
    if scratch.count < bound { scratch.append(contentsOf: repeatElement(0, count: bound - scratch.count)) }
    let decoded = scratch.withUnsafeMutableBufferPointer { words in
        words.withMemoryRebound(to: T.self) { out in
            guard let n = PackedVarints.decode(payload, into: out.baseAddress!) else { return false }
            column.append(contentsOf: UnsafeBufferPointer(rebasing: out[..<n]))
            return true
        }
    }
    if decoded { return }
    var packed = ByteReader(payload)
    while !packed.isAtEnd { column.append(T(truncatingIfNeeded: try packed.readUvarint())) }
}

private enum PackedVarints {
    /// Decodes every varint of a non-empty `payload` into `out` (room for `payload.count`) and
    /// returns how many; nil when one is longer than 9 bytes (64-bit overflow is only possible
    /// beyond that) or unterminated, which the caller's slow path reports.
    @inline(__always)
    static func decode<T: FixedWidthInteger>(_ payload: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<T>) -> Int? {
        var q = payload.baseAddress!
        let end = q + payload.count
        var n = 0
        while q < end {
            var b = q.load(as: UInt8.self)
            // One- and two-byte varints (nearly every location id and small value) without the loop.
            if b < 0x80 {
                out[n] = T(truncatingIfNeeded: b)
                n += 1
                q += 1
                continue
            }
            if end - q >= 2 {
                let b1 = (q + 1).load(as: UInt8.self)
                if b1 < 0x80 {
                    out[n] = T(truncatingIfNeeded: UInt64(b & 0x7F) | UInt64(b1) << 7)
                    n += 1
                    q += 2
                    continue
                }
            }
            q += 1
            var v = UInt64(b & 0x7F)
            var shift: UInt64 = 7
            while b >= 0x80 {
                guard q < end, shift < 63 else { return nil }
                b = q.load(as: UInt8.self)
                q += 1
                v |= UInt64(b & 0x7F) << shift
                shift += 7
            }
            out[n] = T(truncatingIfNeeded: v)
            n += 1
        }
        return n
    }
}
