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

// MARK: Inline readers

/// Keys, small varints and short lengths are one or two bytes in almost every field of a
/// pprof; these read them inline and hand anything else to `ProtobufReader` at the same
/// offset (same values, same errors). The generic readers are calls into BinaryCoding.
extension ProtobufReader {
    /// The byte at the read position (the next key's first byte), nil at the end of the message.
    @inline(__always)
    func peekByte() -> UInt8? {
        let o = reader.offset
        return o < reader.bytes.count ? reader.bytes.load(fromByteOffset: o, as: UInt8.self) : nil
    }

    @inline(__always)
    mutating func nextFieldFast() throws(DecodeError) -> (number: UInt32, wire: WireType)? {
        guard let key = peekByte() else { return nil }
        // A one-byte key with field number ≥ 1 and a wire type `nextField` accepts.
        if key < 0x80, key >= 8, let wire = WireType(rawValue: key & 7) {
            reader.offset &+= 1
            return (UInt32(key >> 3), wire)
        }
        return try nextField()
    }

    /// One- and two-byte varints inline (string indices and ids of a few thousand are two).
    @inline(__always)
    mutating func readVarintFast() throws(DecodeError) -> UInt64 {
        let o = reader.offset
        let count = reader.bytes.count
        if o < count {
            let b0 = reader.bytes.load(fromByteOffset: o, as: UInt8.self)
            if b0 < 0x80 {
                reader.offset = o + 1
                return UInt64(b0)
            }
            if o + 1 < count {
                let b1 = reader.bytes.load(fromByteOffset: o + 1, as: UInt8.self)
                if b1 < 0x80 {
                    reader.offset = o + 2
                    return UInt64(b0 & 0x7F) | UInt64(b1) << 7
                }
            }
        }
        return try readVarint()
    }

    /// Lengths below 2^14 inline.
    @inline(__always)
    mutating func readLengthDelimitedFast() throws(DecodeError) -> UnsafeRawBufferPointer {
        let o = reader.offset
        let count = reader.bytes.count
        if o < count {
            var n = Int(reader.bytes.load(fromByteOffset: o, as: UInt8.self))
            var start = o + 1
            if n >= 0x80, start < count {
                let b1 = Int(reader.bytes.load(fromByteOffset: start, as: UInt8.self))
                n = b1 < 0x80 ? n & 0x7F | b1 << 7 : Int.max
                start += 1
            }
            if n <= count - start { // then `bytes` is not empty, its base not nil
                reader.offset = start + n
                return UnsafeRawBufferPointer(start: reader.bytes.baseAddress.unsafelyUnwrapped + start, count: n)
            }
        }
        return try readLengthDelimited()
    }
}

// MARK: Repeated varints

/// A repeated 64-bit varint field, one element (unpacked) or a packed run.
@inline(__always)
func appendRepeated(_ r: inout ProtobufReader, _ wire: WireType, _ field: UInt32,
                    into column: inout RawColumn<UInt64>) throws(DecodeError) {
    switch wire {
    case .varint:
        column.append(try r.readVarintFast())
    case .lengthDelimited:
        try appendPacked(try r.readLengthDelimitedFast(), into: &column)
    default:
        throw wrongWire(r, wire, field)
    }
}

/// Decodes a packed varint run straight into `column` (room for the payload length, an upper
/// bound of the count, is reserved first). A varint longer than 9 bytes or cut off at the end
/// takes the element-by-element `ByteReader` path instead, so values and errors stay the same
/// (its offsets are relative to the run, as they always were).
@inline(__always)
func appendPacked(_ payload: UnsafeRawBufferPointer, into column: inout RawColumn<UInt64>) throws(DecodeError) {
    guard !payload.isEmpty else { return }
    column.reserve(payload.count)
    if let n = PackedVarints.decode(payload, into: column.end) {
        column.count &+= n
        return
    }
    var packed = ByteReader(payload)
    while !packed.isAtEnd { column.append(try packed.readUvarint()) }
}

enum PackedVarints {
    private static let continuationBits: UInt64 = 0x8080_8080_8080_8080
    /// The continuation bits of four two-byte varints in a row.
    private static let twoByteBits: UInt64 = 0x0080_0080_0080_0080

    /// Decodes every varint of a non-empty `payload` into `out` (room for `payload.count`) and
    /// returns how many; nil when one is longer than 9 bytes (64-bit overflow is only possible
    /// beyond that) or unterminated, which the caller's slow path reports.
    ///
    /// Eight one-byte varints in a row (ids of small profiles, most values) are widened from
    /// one 64-bit load with SIMD; otherwise the varints starting in the next eight bytes are
    /// read one by one, one- and two-byte ones without the byte loop and, while nine bytes
    /// remain, without a bounds check for the second byte.
    @inline(__always)
    static func decode(_ payload: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt64>) -> Int? {
        var q = payload.baseAddress!
        let end = q + payload.count
        var n = 0
        while end - q >= 9 {
            let w = UInt64(littleEndian: q.loadUnaligned(as: UInt64.self))
            if w & continuationBits == 0 {
                let wide = SIMD8<UInt64>(truncatingIfNeeded: unsafeBitCast(w.littleEndian, to: SIMD8<UInt8>.self))
                UnsafeMutableRawPointer(out + n).storeBytes(of: wide, as: SIMD8<UInt64>.self)
                n &+= 8
                q += 8
                continue
            }
            if w & continuationBits == twoByteBits {
                // Four two-byte varints (ids of a few thousand locations, deep frames in a row).
                let lanes = w & 0x007F_007F_007F_007F | w >> 1 & 0x3F80_3F80_3F80_3F80
                out[n] = lanes & 0xFFFF
                out[n &+ 1] = lanes >> 16 & 0xFFFF
                out[n &+ 2] = lanes >> 32 & 0xFFFF
                out[n &+ 3] = lanes >> 48
                n &+= 4
                q += 8
                continue
            }
            let stop = q + 8
            repeat {
                let b0 = q.load(as: UInt8.self)
                if b0 < 0x80 {
                    out[n] = UInt64(b0)
                    n &+= 1
                    q += 1
                    continue
                }
                let b1 = (q + 1).load(as: UInt8.self) // q + 1 < stop + 1 ≤ end
                if b1 < 0x80 {
                    out[n] = UInt64(b0 & 0x7F) | UInt64(b1) << 7
                    n &+= 1
                    q += 2
                    continue
                }
                guard let (v, next) = longVarint(q, end) else { return nil }
                out[n] = v
                n &+= 1
                q = next
            } while q < stop
        }
        while q < end {
            let b0 = q.load(as: UInt8.self)
            if b0 < 0x80 {
                out[n] = UInt64(b0)
                n &+= 1
                q += 1
                continue
            }
            if end - q >= 2 {
                let b1 = (q + 1).load(as: UInt8.self)
                if b1 < 0x80 {
                    out[n] = UInt64(b0 & 0x7F) | UInt64(b1) << 7
                    n &+= 1
                    q += 2
                    continue
                }
            }
            guard let (v, next) = longVarint(q, end) else { return nil }
            out[n] = v
            n &+= 1
            q = next
        }
        return n
    }

    /// The varint at `start` when it ends within the eight bytes there (all readable): the 7-bit
    /// groups below the first stop bit, packed, from one load. Addresses are five or six bytes,
    /// six to eight iterations of a byte loop.
    @inline(__always)
    static func varintOfAWord(_ start: UnsafeRawPointer) -> (UInt64, UnsafeRawPointer)? {
        let w = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
        let stops = ~w & continuationBits
        guard stops != 0 else { return nil }
        let bits = stops.trailingZeroBitCount &+ 1 // 8 × the varint's length
        var x = w & 0x7F7F_7F7F_7F7F_7F7F & (bits == 64 ? ~0 : (1 &<< UInt64(bits)) &- 1)
        x = x & 0x007F_007F_007F_007F | x >> 1 & 0x3F80_3F80_3F80_3F80
        x = x & 0x0000_3FFF_0000_3FFF | x >> 2 & 0x0FFF_C000_0FFF_C000
        x = x & 0x0000_0000_0FFF_FFFF | x >> 4 & 0x00FF_FFFF_F000_0000
        return (x, start + bits &>> 3)
    }

    /// A varint of two to nine bytes at `start`; nil when longer or unterminated before `end`.
    @inline(__always)
    static func longVarint(_ start: UnsafeRawPointer, _ end: UnsafeRawPointer) -> (UInt64, UnsafeRawPointer)? {
        var q = start
        var b = q.load(as: UInt8.self)
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
        return (v, q)
    }
}
