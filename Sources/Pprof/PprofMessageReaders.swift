import BinaryCoding

/// The hot message readers: Sample (with Label), Location (with Line) and Function.
///
/// Each first reads the encoding producers write (one-byte keys, lengths of one or two bytes,
/// varints of at most nine bytes) with raw pointers and no error paths. Anything else (unknown
/// fields, multi-byte keys, wrong wire types, 10-byte or cut varints, long lengths) makes it
/// give up with the columns as they were, and a plain field loop reads the whole message: the
/// values and errors are those of that loop (DifferentialTests compare with a plain reference
/// decoder). The readers that build a value are static: as methods on the `inout` tables they
/// copied the whole struct per call.
extension PprofTables {
    @inline(__always)
    mutating func decodeSample(_ m: UnsafeRawBufferPointer) throws(DecodeError) {
        if appendUsualSample(m) { return }
        try decodeSampleFields(m)
    }

    /// The layouts producers write (Go's `runtime/pprof` and `profile` package, pprof-rs, Java and
    /// .NET agents, the distributor's re-encoding): values unpacked (0x10), ids packed (0x0A) or
    /// unpacked (0x08), values packed (0x12) or unpacked, then labels (0x1A) `shortLabel` reads,
    /// in that order, each length in one or two bytes, each varint in nine bytes or fewer. Read
    /// with pointers, without the reader and the key switch. Anything else returns false with the
    /// columns as before, and the field loop reads the whole message again (same values, same
    /// errors).
    @inline(__always)
    private mutating func appendUsualSample(_ m: UnsafeRawBufferPointer) -> Bool {
        guard let start = m.baseAddress else { return false }
        let end = start + m.count
        var p = start
        let idCount = staging.locationIDs.count, valueCount = staging.values.count, labelCount = staging.labels.count
        if Self.appendUsualVarints(key: 0x10, &p, end, into: &staging.values),
           Self.appendUsualPacked(key: 0x0A, &p, end, into: &staging.locationIDs),
           Self.appendUsualVarints(key: 0x08, &p, end, into: &staging.locationIDs),
           Self.appendUsualValues(&p, end, into: &staging.values),
           Self.appendUsualVarints(key: 0x10, &p, end, into: &staging.values),
           appendShortLabels(&p, end), p == end {
            staging.endSample()
            return true
        }
        staging.locationIDs.count = idCount
        staging.values.count = valueCount
        staging.labels.count = labelCount
        return false
    }

    /// The packed run of field `key` at `p`, if there is one there, into `column`; false when its
    /// length or a varint is more than `appendUsualSample` reads.
    @inline(__always)
    private static func appendUsualPacked(key: UInt8, _ p: inout UnsafeRawPointer, _ end: UnsafeRawPointer,
                                          into column: inout RawColumn<UInt64>) -> Bool {
        guard p < end, p.load(as: UInt8.self) == key else { return true }
        guard let run = shortLengthDelimited(after: p, end) else { return false }
        p = run.baseAddress.unsafelyUnwrapped + run.count
        guard !run.isEmpty else { return true }
        column.reserve(run.count)
        guard let n = PackedVarints.decode(run, into: column.end) else { return false }
        column.count &+= n
        return true
    }

    /// The packed values at `p` (key 0x12), if there are some there, into `column`: a few varints
    /// (one per sample type), read one by one inline rather than by the run decoder's call.
    @inline(__always)
    private static func appendUsualValues(_ p: inout UnsafeRawPointer, _ end: UnsafeRawPointer,
                                          into column: inout RawColumn<UInt64>) -> Bool {
        guard p < end, p.load(as: UInt8.self) == 0x12 else { return true }
        guard let run = shortLengthDelimited(after: p, end) else { return false }
        var q = run.baseAddress.unsafelyUnwrapped
        let runEnd = q + run.count
        column.reserve(run.count)
        let first = column.end
        var out = first
        while q < runEnd {
            guard let v = usualVarint(&q, runEnd) else { return false }
            out.initialize(to: v)
            out += 1
        }
        column.count &+= out - first
        p = runEnd
        return true
    }

    /// The unpacked elements of field `key` at `p`, if any, into `column`; false at a varint of
    /// more than nine bytes or cut off.
    @inline(__always)
    private static func appendUsualVarints(key: UInt8, _ p: inout UnsafeRawPointer, _ end: UnsafeRawPointer,
                                           into column: inout RawColumn<UInt64>) -> Bool {
        while p < end, p.load(as: UInt8.self) == key {
            var q = p + 1
            guard let v = usualVarint(&q, end) else { return false }
            column.append(v)
            p = q
        }
        return true
    }

    /// The labels at `p` (key 0x1A) that `shortLabel` reads; false at one it does not.
    @inline(__always)
    private mutating func appendShortLabels(_ p: inout UnsafeRawPointer, _ end: UnsafeRawPointer) -> Bool {
        while p < end, p.load(as: UInt8.self) == 0x1A {
            guard let m = Self.shortLengthDelimited(after: p, end), let l = Self.shortLabel(m) else { return false }
            staging.labels.append(l)
            p = m.baseAddress.unsafelyUnwrapped + m.count
        }
        return true
    }

    /// The payload of the length-delimited field whose one-byte key is at `key`, when its length
    /// takes one or two bytes and the payload ends by `end`; nil otherwise.
    @inline(__always)
    static func shortLengthDelimited(after key: UnsafeRawPointer, _ end: UnsafeRawPointer) -> UnsafeRawBufferPointer? {
        var q = key + 1
        guard q < end else { return nil }
        var n = Int(q.load(as: UInt8.self))
        q += 1
        if n >= 0x80 {
            guard q < end else { return nil }
            let b1 = Int(q.load(as: UInt8.self))
            guard b1 < 0x80 else { return nil }
            n = n & 0x7F | b1 << 7
            q += 1
        }
        guard n <= end - q else { return nil }
        return UnsafeRawBufferPointer(start: q, count: n)
    }

    /// Any other Sample encoding, field by field (cold: the usual layouts take `appendUsualSample`).
    @inline(never)
    private mutating func decodeSampleFields(_ m: UnsafeRawBufferPointer) throws(DecodeError) {
        var r = ProtobufReader(m)
        do {
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: try appendRepeated(&r, wire, field, into: &staging.locationIDs)
                case 2: try appendRepeated(&r, wire, field, into: &staging.values)
                case 3: staging.labels.append(try Self.label(embedded(&r, wire, field), in: bytes))
                default: try r.skip(wire)
                }
            }
        } catch {
            throw Self.region("Sample", m, error, in: bytes)
        }
        staging.endSample()
    }

    /// A label of one-byte keys of its four fields, each with a varint of at most nine bytes,
    /// nothing else (nearly every label: `key` with `str`, or with `num` and maybe `num_unit`);
    /// nil for anything else (then `label` reads it).
    @inline(__always)
    static func shortLabel(_ m: UnsafeRawBufferPointer) -> SampleLabel? {
        guard let f = usualVarintFields(m, last: 4) else { return nil }
        return SampleLabel(key: Int64(bitPattern: f.0), str: Int64(bitPattern: f.1),
                           num: Int64(bitPattern: f.2), numUnit: Int64(bitPattern: f.3))
    }

    /// Fields 1...`last` (at most 5) of a message made only of one-byte keys of varint fields
    /// with those numbers, each varint of at most nine bytes (no overflow possible); unset fields
    /// read 0 and a repeated field keeps its last value, as in the field loop. nil for anything
    /// else: the caller's field loop then reads the message (same values, same errors).
    @inline(__always)
    static func usualVarintFields(_ m: UnsafeRawBufferPointer, last: UInt8)
        -> (UInt64, UInt64, UInt64, UInt64, UInt64)? {
        var f: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        guard let start = m.baseAddress else { return f }
        let end = start + m.count
        var p = start
        while p < end {
            let key = p.load(as: UInt8.self)
            p += 1
            guard let v = usualVarint(&p, end) else { return nil }
            switch key {
            case 0x08: f.0 = v
            case 0x10: f.1 = v
            case 0x18 where last >= 3: f.2 = v
            case 0x20 where last >= 4: f.3 = v
            case 0x28 where last >= 5: f.4 = v
            default: return nil
            }
        }
        return f
    }

    /// The varint at `p` when it has at most nine bytes and ends by `end`, advancing `p`.
    @inline(__always)
    static func usualVarint(_ p: inout UnsafeRawPointer, _ end: UnsafeRawPointer) -> UInt64? {
        guard p < end else { return nil }
        let b0 = p.load(as: UInt8.self)
        if b0 < 0x80 {
            p += 1
            return UInt64(b0)
        }
        if end - p >= 2 {
            let b1 = (p + 1).load(as: UInt8.self)
            if b1 < 0x80 {
                p += 2
                return UInt64(b0 & 0x7F) | UInt64(b1) << 7
            }
        }
        guard let (v, next) = PackedVarints.longVarint(p, end) else { return nil }
        p = next
        return v
    }

    static func label(_ m: UnsafeRawBufferPointer, in profile: UnsafeRawBufferPointer) throws(DecodeError) -> SampleLabel {
        if let l = shortLabel(m) { return l }
        var r = ProtobufReader(m)
        var l = SampleLabel()
        do {
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: l.key = try int64(&r, wire, field)
                case 2: l.str = try int64(&r, wire, field)
                case 3: l.num = try int64(&r, wire, field)
                case 4: l.numUnit = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
        } catch {
            throw region("Label", m, error, in: profile)
        }
        return l
    }

    @inline(__always)
    mutating func decodeLocation(_ m: UnsafeRawBufferPointer) throws(DecodeError) {
        if appendUsualLocation(m) { return }
        try decodeLocationFields(m)
    }

    /// A location of one-byte keys, varints of at most nine bytes and lines `usualLine` reads
    /// (with lengths of one or two bytes), in any order: read with pointers. Anything else returns
    /// false with the columns as before, and the field loop reads the whole message again.
    @inline(__always)
    private mutating func appendUsualLocation(_ m: UnsafeRawBufferPointer) -> Bool {
        guard let start = m.baseAddress else { return false }
        let end = start + m.count
        let lineCount = staging.lines.count
        var v = LocationRecord()
        v.lineStart = UInt32(truncatingIfNeeded: lineCount)
        var p = start
        fields: while p < end {
            let key = p.load(as: UInt8.self)
            if key == 0x22 {
                guard let line = Self.shortLengthDelimited(after: p, end), let l = Self.usualLine(line) else { break }
                staging.lines.append(l)
                p = line.baseAddress.unsafelyUnwrapped + line.count
                continue
            }
            var q = p + 1
            if key == 0x18, end - q >= 8, let (address, next) = PackedVarints.varintOfAWord(q) {
                v.address = address
                p = next
                continue
            }
            guard let x = Self.usualVarint(&q, end) else { break }
            switch key {
            case 0x08: v.id = x
            case 0x10: v.mappingID = x
            case 0x18: v.address = x
            case 0x28: v.isFolded = x != 0
            default: break fields
            }
            p = q
        }
        guard p == end else {
            staging.lines.count = lineCount
            return false
        }
        v.lineCount = UInt32(truncatingIfNeeded: staging.lines.count) &- v.lineStart
        staging.locations.append(v)
        return true
    }

    /// Any other Location encoding, field by field (cold).
    @inline(never)
    private mutating func decodeLocationFields(_ m: UnsafeRawBufferPointer) throws(DecodeError) {
        var v = LocationRecord()
        v.lineStart = UInt32(truncatingIfNeeded: staging.lines.count)
        var r = ProtobufReader(m)
        do {
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.id = try uint64(&r, wire, field)
                case 2: v.mappingID = try uint64(&r, wire, field)
                case 3: v.address = try uint64(&r, wire, field)
                case 4: staging.lines.append(try Self.line(embedded(&r, wire, field), in: bytes))
                case 5: v.isFolded = try uint64(&r, wire, field) != 0
                default: try r.skip(wire)
                }
            }
        } catch {
            throw Self.region("Location", m, error, in: bytes)
        }
        v.lineCount = UInt32(truncatingIfNeeded: staging.lines.count) &- v.lineStart
        staging.locations.append(v)
    }

    @inline(__always)
    static func usualLine(_ m: UnsafeRawBufferPointer) -> LineRecord? {
        guard let f = usualVarintFields(m, last: 3) else { return nil }
        return LineRecord(functionID: f.0, line: Int64(bitPattern: f.1), column: Int64(bitPattern: f.2))
    }

    static func line(_ m: UnsafeRawBufferPointer, in profile: UnsafeRawBufferPointer) throws(DecodeError) -> LineRecord {
        if let l = usualLine(m) { return l }
        var r = ProtobufReader(m)
        var v = LineRecord()
        do {
            while let (field, wire) = try r.nextFieldFast() {
                switch field {
                case 1: v.functionID = try uint64(&r, wire, field)
                case 2: v.line = try int64(&r, wire, field)
                case 3: v.column = try int64(&r, wire, field)
                default: try r.skip(wire)
                }
            }
        } catch {
            throw region("Line", m, error, in: profile)
        }
        return v
    }

    @inline(__always)
    static func function(_ m: UnsafeRawBufferPointer, in profile: UnsafeRawBufferPointer) throws(DecodeError) -> FunctionRecord {
        guard let f = usualVarintFields(m, last: 5) else { return try functionFields(m, in: profile) }
        var v = FunctionRecord()
        v.id = f.0
        v.name = Int64(bitPattern: f.1)
        v.systemName = Int64(bitPattern: f.2)
        v.filename = Int64(bitPattern: f.3)
        v.startLine = Int64(bitPattern: f.4)
        return v
    }

    /// Any other Function encoding, field by field (cold).
    @inline(never)
    private static func functionFields(_ m: UnsafeRawBufferPointer, in profile: UnsafeRawBufferPointer) throws(DecodeError) -> FunctionRecord {
        var r = ProtobufReader(m)
        var v = FunctionRecord()
        do {
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
        } catch {
            throw region("Function", m, error, in: profile)
        }
        return v
    }
}
