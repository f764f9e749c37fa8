import BinaryCoding
import Pprof

/// The pprof decoder as first written: one generic field loop per message over
/// `ProtobufReader`, no fast paths. `PprofDecoder` must give the same profile, or the same
/// error (kind, offset, message, context), for every input (DifferentialTests).
enum ReferenceDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<PprofProfile, PprofError> {
        guard bytes.count <= Int(UInt32.max) else { return .failure(.profileTooLarge(bytes: bytes.count)) }
        var state = State(bytes: bytes)
        do throws(DecodeError) {
            try state.profile()
            return .success(state.p)
        } catch {
            return .failure(.wire(error.inRegion("pprof Profile")))
        }
    }

    private struct State {
        let bytes: UnsafeRawBufferPointer
        var p = PprofProfile()

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            p.stringTable = []
        }

        mutating func profile() throws(DecodeError) {
            var r = ProtobufReader(bytes)
            while let (field, wire) = try r.nextField() {
                switch field {
                case 1: p.sampleTypes.append(try valueType(embedded(&r, wire, field), into: ValueTypeRef()))
                case 2: p.samples.append(try sample(embedded(&r, wire, field)))
                case 3: p.mappings.append(try mapping(embedded(&r, wire, field)))
                case 4: p.locations.append(try location(embedded(&r, wire, field)))
                case 5: p.functions.append(try function(embedded(&r, wire, field)))
                case 6: p.stringTable.append(ByteString(try embedded(&r, wire, field)))
                case 7: p.dropFrames = try int64(&r, wire, field)
                case 8: p.keepFrames = try int64(&r, wire, field)
                case 9: p.timeNanos = try int64(&r, wire, field)
                case 10: p.durationNanos = try int64(&r, wire, field)
                case 11: p.periodType = try valueType(embedded(&r, wire, field), into: p.periodType ?? ValueTypeRef())
                case 12: p.period = try int64(&r, wire, field)
                case 13: try repeated(&r, wire, field) { p.comments.append(Int64(bitPattern: $0)) }
                case 14: p.defaultSampleType = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
        }

        /// Offsets become absolute at the innermost message and stay so outwards.
        func region(_ name: String, _ m: UnsafeRawBufferPointer, _ error: DecodeError) -> DecodeError {
            error.context.isEmpty ? error.inRegion(name, base: m.baseAddress! - bytes.baseAddress!) : error.inRegion(name)
        }

        func valueType(_ m: UnsafeRawBufferPointer, into start: ValueTypeRef) throws(DecodeError) -> ValueTypeRef {
            var r = ProtobufReader(m)
            var v = start
            do {
                while let (field, wire) = try r.nextField() {
                    switch field {
                    case 1: v.type = try int64(&r, wire, field)
                    case 2: v.unit = try int64(&r, wire, field)
                    default: try r.skip(wire)
                    }
                }
            } catch { throw region("ValueType", m, error) }
            return v
        }

        func sample(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> PprofProfile.Sample {
            var r = ProtobufReader(m)
            var s = PprofProfile.Sample()
            do {
                while let (field, wire) = try r.nextField() {
                    switch field {
                    case 1: try repeated(&r, wire, field) { s.locationIDs.append($0) }
                    case 2: try repeated(&r, wire, field) { s.values.append(Int64(bitPattern: $0)) }
                    case 3: s.labels.append(try label(embedded(&r, wire, field)))
                    default: try r.skip(wire)
                    }
                }
            } catch { throw region("Sample", m, error) }
            return s
        }

        func label(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> SampleLabel {
            var r = ProtobufReader(m)
            var l = SampleLabel()
            do {
                while let (field, wire) = try r.nextField() {
                    switch field {
                    case 1: l.key = try int64(&r, wire, field)
                    case 2: l.str = try int64(&r, wire, field)
                    case 3: l.num = try int64(&r, wire, field)
                    case 4: l.numUnit = try int64(&r, wire, field)
                    default: try r.skip(wire)
                    }
                }
            } catch { throw region("Label", m, error) }
            return l
        }

        func mapping(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> MappingRecord {
            var r = ProtobufReader(m)
            var v = MappingRecord()
            do {
                while let (field, wire) = try r.nextField() {
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
            } catch { throw region("Mapping", m, error) }
            return v
        }

        func location(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> PprofProfile.Location {
            var r = ProtobufReader(m)
            var v = PprofProfile.Location(id: 0)
            do {
                while let (field, wire) = try r.nextField() {
                    switch field {
                    case 1: v.id = try uint64(&r, wire, field)
                    case 2: v.mappingID = try uint64(&r, wire, field)
                    case 3: v.address = try uint64(&r, wire, field)
                    case 4: v.lines.append(try line(embedded(&r, wire, field)))
                    case 5: v.isFolded = try uint64(&r, wire, field) != 0
                    default: try r.skip(wire)
                    }
                }
            } catch { throw region("Location", m, error) }
            return v
        }

        func line(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> LineRecord {
            var r = ProtobufReader(m)
            var v = LineRecord()
            do {
                while let (field, wire) = try r.nextField() {
                    switch field {
                    case 1: v.functionID = try uint64(&r, wire, field)
                    case 2: v.line = try int64(&r, wire, field)
                    case 3: v.column = try int64(&r, wire, field)
                    default: try r.skip(wire)
                    }
                }
            } catch { throw region("Line", m, error) }
            return v
        }

        func function(_ m: UnsafeRawBufferPointer) throws(DecodeError) -> FunctionRecord {
            var r = ProtobufReader(m)
            var v = FunctionRecord()
            do {
                while let (field, wire) = try r.nextField() {
                    switch field {
                    case 1: v.id = try uint64(&r, wire, field)
                    case 2: v.name = try int64(&r, wire, field)
                    case 3: v.systemName = try int64(&r, wire, field)
                    case 4: v.filename = try int64(&r, wire, field)
                    case 5: v.startLine = try int64(&r, wire, field)
                    default: try r.skip(wire)
                    }
                }
            } catch { throw region("Function", m, error) }
            return v
        }
    }

    private static func wrongWire(_ r: ProtobufReader, _ wire: WireType, _ field: UInt32) -> DecodeError {
        DecodeError(.malformed, at: r.offset, "proto: wrong wireType = \(wire.rawValue) for field \(field)")
    }

    private static func uint64(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> UInt64 {
        guard wire == .varint else { throw wrongWire(r, wire, field) }
        return try r.readVarint()
    }

    private static func int64(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> Int64 {
        Int64(bitPattern: try uint64(&r, wire, field))
    }

    private static func embedded(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32) throws(DecodeError) -> UnsafeRawBufferPointer {
        guard wire == .lengthDelimited else { throw wrongWire(r, wire, field) }
        return try r.readLengthDelimited()
    }

    /// A repeated varint, one element or a packed run. A bad varint inside a run is reported
    /// at its offset within the run (relative to the run, as the first decoder did).
    private static func repeated(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32,
                                 _ body: (UInt64) -> Void) throws(DecodeError) {
        switch wire {
        case .varint: body(try r.readVarint())
        case .lengthDelimited:
            var packed = ByteReader(try r.readLengthDelimited())
            while !packed.isAtEnd { body(try packed.readUvarint()) }
        default: throw wrongWire(r, wire, field)
        }
    }
}
