import BinaryCoding

/// Decodes a pprof `perftools.profiles.Profile` (ingest-and-ops.md §2.1 step 3) into columns it
/// keeps between calls: each `decode` resets the counts and keeps the capacity, so in steady
/// state a profile costs no heap allocation. The columns are buffer views of that storage,
/// valid until the next `decode`. Strings stay in the caller's bytes as
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

    deinit { tables.staging.deallocate() }

    /// The profile bytes of the last `decode`; every `StringRef` points into them.
    public var bytes: UnsafeRawBufferPointer { tables.bytes }
    public var strings: UnsafeBufferPointer<StringRef> { tables.strings }
    public var sampleTypes: [ValueTypeRef] { tables.sampleTypes }
    /// Sample `i` owns `sampleLocationIDs[sampleLocationStarts[i] ..< sampleLocationStarts[i + 1]]`
    /// (leaf first), and likewise for values and labels.
    public var sampleLocationStarts: UnsafeBufferPointer<UInt32> { tables.sampleLocationStarts }
    public var sampleLocationIDs: UnsafeBufferPointer<UInt64> { tables.sampleLocationIDs }
    /// Parallel to `sampleLocationIDs`: index into `locations`, filled by `resolveReferences()`.
    public var sampleLocationIndices: UnsafeBufferPointer<UInt32> { tables.sampleLocationIndices }
    public var sampleValueStarts: UnsafeBufferPointer<UInt32> { tables.sampleValueStarts }
    public var sampleValues: UnsafeBufferPointer<Int64> { tables.sampleValues }
    public var sampleLabelStarts: UnsafeBufferPointer<UInt32> { tables.sampleLabelStarts }
    public var sampleLabels: UnsafeBufferPointer<SampleLabel> { tables.sampleLabels }
    public var mappings: [MappingRecord] { tables.mappings }
    public var locations: UnsafeBufferPointer<LocationRecord> { tables.locations }
    /// Lines of all locations; location `i` owns `lines[lineStart ..< lineStart + lineCount]`.
    public var lines: UnsafeBufferPointer<LineRecord> { tables.lines }
    public var functions: UnsafeBufferPointer<FunctionRecord> { tables.functions }
    public var dropFrames: Int64 { tables.dropFrames }
    public var keepFrames: Int64 { tables.keepFrames }
    public var timeNanos: Int64 { tables.timeNanos }
    public var durationNanos: Int64 { tables.durationNanos }
    /// nil when the profile has no `period_type` message.
    public var periodType: ValueTypeRef? { tables.periodType }
    public var period: Int64 { tables.period }
    public var comments: UnsafeBufferPointer<Int64> { tables.comments }
    public var defaultSampleType: Int64 { tables.defaultSampleType }
    /// symdb.md §3.2: `true` for string indices `ZeroLabelStrings` keeps (sample types, functions,
    /// mappings, comments, drop/keep frames); the head blanks the others. Filled by `resolveReferences()`.
    public var symbolStringMask: [Bool] { tables.symbolStringMask }

    public var sampleCount: Int { tables.sampleLocationStarts.count - 1 }

    // MARK: Views

    /// String-table entry `index`; index 0 of an empty table reads as "".
    public func string(_ index: Int) -> UnsafeRawBufferPointer { tables.string(index) }

    public func locationIDs(ofSample i: Int) -> UnsafeBufferPointer<UInt64> {
        UnsafeBufferPointer(rebasing: tables.sampleLocationIDs[Int(tables.sampleLocationStarts[i]) ..< Int(tables.sampleLocationStarts[i + 1])])
    }

    public func locationIndices(ofSample i: Int) -> UnsafeBufferPointer<UInt32> {
        UnsafeBufferPointer(rebasing: tables.sampleLocationIndices[Int(tables.sampleLocationStarts[i]) ..< Int(tables.sampleLocationStarts[i + 1])])
    }

    public func values(ofSample i: Int) -> UnsafeBufferPointer<Int64> {
        UnsafeBufferPointer(rebasing: tables.sampleValues[Int(tables.sampleValueStarts[i]) ..< Int(tables.sampleValueStarts[i + 1])])
    }

    public func labels(ofSample i: Int) -> UnsafeBufferPointer<SampleLabel> {
        UnsafeBufferPointer(rebasing: tables.sampleLabels[Int(tables.sampleLabelStarts[i]) ..< Int(tables.sampleLabelStarts[i + 1])])
    }

    public func lines(ofLocation i: Int) -> UnsafeBufferPointer<LineRecord> {
        let l = tables.locations[i]
        return UnsafeBufferPointer(rebasing: tables.lines[Int(l.lineStart) ..< Int(l.lineStart) + Int(l.lineCount)])
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
/// what each column holds. Read-only outside this module. The bulky columns are views of the
/// decoder's storage, valid (like `bytes`) until its next `decode`. After `resolveReferences()`
/// (`referencesResolved`) every string index is inside `strings` (or 0), every sample has one
/// value per sample type, and `sampleLocationIndices`, `LocationRecord.mappingIndex` and
/// `LineRecord.functionIndex` are valid table indices: readers may index without checks.
public struct PprofTables {
    public internal(set) var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    public internal(set) var strings = UnsafeBufferPointer<StringRef>(start: nil, count: 0)
    public internal(set) var sampleTypes: [ValueTypeRef] = []
    public internal(set) var sampleLocationStarts = PprofTables.noSampleStarts
    public internal(set) var sampleLocationIDs = UnsafeBufferPointer<UInt64>(start: nil, count: 0)
    public internal(set) var sampleLocationIndices = UnsafeBufferPointer<UInt32>(start: nil, count: 0)
    public internal(set) var sampleValueStarts = PprofTables.noSampleStarts
    public internal(set) var sampleValues = UnsafeBufferPointer<Int64>(start: nil, count: 0)
    public internal(set) var sampleLabelStarts = PprofTables.noSampleStarts
    public internal(set) var sampleLabels = UnsafeBufferPointer<SampleLabel>(start: nil, count: 0)
    public internal(set) var mappings: [MappingRecord] = []
    public internal(set) var locations = UnsafeBufferPointer<LocationRecord>(start: nil, count: 0)
    public internal(set) var lines = UnsafeBufferPointer<LineRecord>(start: nil, count: 0)
    public internal(set) var functions = UnsafeBufferPointer<FunctionRecord>(start: nil, count: 0)
    public internal(set) var dropFrames: Int64 = 0
    public internal(set) var keepFrames: Int64 = 0
    public internal(set) var timeNanos: Int64 = 0
    public internal(set) var durationNanos: Int64 = 0
    public internal(set) var periodType: ValueTypeRef?
    public internal(set) var period: Int64 = 0
    public internal(set) var comments = UnsafeBufferPointer<Int64>(start: nil, count: 0)
    public internal(set) var defaultSampleType: Int64 = 0
    public internal(set) var symbolStringMask: [Bool] = []
    /// Set by a successful `resolveReferences()`, cleared by `decode`.
    public internal(set) var referencesResolved = false
    /// The storage the views above show: `decode` builds the columns there and publishes the
    /// views once the profile has decoded. Freed by the owning `PprofDecoder`.
    var staging = StagingColumns()

    /// The starts columns of a table with no samples (one leading 0), before any decode.
    nonisolated(unsafe) static let noSampleStarts: UnsafeBufferPointer<UInt32> = {
        let zero = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        zero.initialize(to: 0)
        return UnsafeBufferPointer(start: zero, count: 1)
    }()

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
        sampleTypes.removeAll(keepingCapacity: true)
        mappings.removeAll(keepingCapacity: true)
        staging.removeAll()
        publishStaging()
        symbolStringMask.removeAll(keepingCapacity: true)
        referencesResolved = false
        dropFrames = 0; keepFrames = 0; timeNanos = 0; durationNanos = 0
        periodType = nil; period = 0; defaultSampleType = 0
    }

    /// Samples, locations, functions and strings (one-byte keys, lengths of one or two bytes)
    /// go straight to their readers; any other field takes the generic field switch at the same
    /// offset (same values, same errors).
    private mutating func decodeProfile() throws(DecodeError) {
        var r = ProtobufReader(bytes)
        if let base = bytes.baseAddress {
            let end = base + bytes.count
            var p = base
            while p < end {
                let key = p.load(as: UInt8.self)
                if key & 0xC7 == 0x02, let m = Self.shortLengthDelimited(after: p, end) {
                    switch key {
                    case 0x12: p = m.baseAddress.unsafelyUnwrapped + m.count; try decodeSample(m); continue
                    case 0x22: p = m.baseAddress.unsafelyUnwrapped + m.count; try decodeLocation(m); continue
                    case 0x2A: p = m.baseAddress.unsafelyUnwrapped + m.count; staging.functions.append(try Self.function(m, in: bytes)); continue
                    case 0x32: p = m.baseAddress.unsafelyUnwrapped + m.count; appendString(m); continue
                    default: break
                    }
                }
                r.reader.offset = p - base
                try decodeProfileField(&r)
                p = base + r.offset
            }
        }
        publishStaging()
    }

    private mutating func decodeProfileField(_ r: inout ProtobufReader) throws(DecodeError) {
        guard let (field, wire) = try r.nextFieldFast() else { return }
        switch field {
        case 1: sampleTypes.append(try valueType(embedded(&r, wire, field), into: ValueTypeRef()))
        case 2: try decodeSample(embedded(&r, wire, field))
        case 3: mappings.append(try mapping(embedded(&r, wire, field)))
        case 4: try decodeLocation(embedded(&r, wire, field))
        case 5: staging.functions.append(try Self.function(embedded(&r, wire, field), in: bytes))
        case 6: appendString(try embedded(&r, wire, field))
        case 7: dropFrames = try int64(&r, wire, field)
        case 8: keepFrames = try int64(&r, wire, field)
        case 9: timeNanos = try int64(&r, wire, field)
        case 10: durationNanos = try int64(&r, wire, field)
        case 11: periodType = try valueType(embedded(&r, wire, field), into: periodType ?? ValueTypeRef())
        case 12: period = try int64(&r, wire, field)
        case 13: try appendRepeated(&r, wire, field, into: &staging.comments)
        case 14: defaultSampleType = try int64(&r, wire, field)
        default: try r.skip(wire)
        }
    }

    @inline(__always)
    private mutating func appendString(_ s: UnsafeRawBufferPointer) {
        staging.strings.append(StringRef(offset: UInt32(truncatingIfNeeded: Self.offset(of: s, in: bytes)), length: UInt32(s.count)))
    }

    /// Points the views at the staged columns: nothing is copied.
    private mutating func publishStaging() {
        strings = staging.strings.elements
        sampleLocationStarts = staging.locationStarts.elements
        sampleLocationIDs = staging.locationIDs.elements
        sampleLocationIndices = staging.locationIndices.elements
        sampleValueStarts = staging.valueStarts.elements
        sampleValues = staging.values.elements(as: Int64.self)
        sampleLabelStarts = staging.labelStarts.elements
        sampleLabels = staging.labels.elements
        locations = staging.locations.elements
        lines = staging.lines.elements
        functions = staging.functions.elements
        comments = staging.comments.elements(as: Int64.self)
    }

    /// Names the nested message an error came from; offsets become absolute in the profile
    /// at the innermost level (where the error has no context yet) and stay so outwards.
    static func region(_ name: String, _ message: UnsafeRawBufferPointer, _ error: DecodeError,
                       in profile: UnsafeRawBufferPointer) -> DecodeError {
        error.context.isEmpty ? error.inRegion(name, base: offset(of: message, in: profile)) : error.inRegion(name)
    }

    private func region(_ name: String, _ message: UnsafeRawBufferPointer, _ error: DecodeError) -> DecodeError {
        Self.region(name, message, error, in: bytes)
    }

    static func offset(of view: UnsafeRawBufferPointer, in profile: UnsafeRawBufferPointer) -> Int {
        guard let b = profile.baseAddress, let v = view.baseAddress else { return 0 }
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
}

// MARK: Field readers (vtproto: a known field with another wire type is an error)

@inline(__always)
func wrongWire(_ r: ProtobufReader, _ wire: WireType, _ field: UInt32) -> DecodeError {
    DecodeError(.malformed, at: r.offset, "proto: wrong wireType = \(wire.rawValue) for field \(field)")
}

@inline(__always)
func uint64(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> UInt64 {
    guard wire == .varint else { throw wrongWire(r, wire, field) }
    return try r.readVarintFast()
}

@inline(__always)
func int64(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> Int64 {
    Int64(bitPattern: try uint64(&r, wire, field))
}

@inline(__always)
func embedded(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> UnsafeRawBufferPointer {
    guard wire == .lengthDelimited else { throw wrongWire(r, wire, field) }
    return try r.readLengthDelimitedFast()
}
