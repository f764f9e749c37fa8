import BinaryCoding
import SymbolDB
import TSDBIndex

/// Encodes one profile row as a `perftools.profiles.Profile` with a single sample type: the
/// partition's symbols as they are (IDs = index + 1), stacks resolved leaf first, and the
/// series' non-reserved labels on every sample.
struct PprofEncoder {
    private var strings: [ByteString]
    private var stringIndex: [ByteString: Int64] = [:]

    init(_ partition: SymbolPartition) {
        strings = partition.strings.isEmpty ? [.empty] : partition.strings
        for (i, s) in strings.enumerated() where stringIndex[s] == nil { stringIndex[s] = Int64(i) }
    }

    private mutating func intern(_ s: ByteString) -> Int64 {
        if let i = stringIndex[s] { return i }
        strings.append(s)
        stringIndex[s] = Int64(strings.count - 1)
        return Int64(strings.count - 1)
    }

    /// `profileType` is `name:type:unit:periodType:periodUnit` (Pyroscope's profile type ID).
    static func encode(_ rows: ProfileRows, row r: Int) throws(DecodeError) -> [UInt8] {
        guard let p = rows.partition(r) else {
            throw DecodeError(.malformed, at: 0, "row \(r): no symbol partition \(rows.columns.stacktracePartition[r])")
        }
        var e = PprofEncoder(p)
        let c = rows.columns
        let parts = rows.profileType(r).bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map { ByteString(Array($0)) }
        let (type, unit) = parts.count == 5 ? (parts[1], parts[2]) : (rows.profileType(r), ByteString.empty)
        let (periodType, periodUnit) = parts.count == 5 ? (parts[3], parts[4]) : (ByteString.empty, ByteString.empty)
        let labels = rows.series[Int(c.seriesIndex[r])].labels.filter { !$0.name.bytes.starts(with: Array("__".utf8)) }
            .map { (key: e.intern($0.name), value: e.intern($0.value)) }
        var w = ByteWriter()
        let typeID = e.intern(type), unitID = e.intern(unit)
        w.appendMessageField(1) { $0.appendNonZero(1, typeID); $0.appendNonZero(2, unitID) }
        var stack: [UInt32] = []
        for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
            try p.resolveStack(UInt32(truncatingIfNeeded: c.sampleStacktraceIDs[s]), into: &stack)
            let value = c.sampleValues[s]
            w.appendMessageField(2) { m in
                m.appendPackedVarints(1, stack.map { UInt64($0) + 1 })
                m.appendPackedVarints(2, [UInt64(bitPattern: value)])
                for l in labels { m.appendMessageField(3) { $0.appendNonZero(1, l.key); $0.appendNonZero(2, l.value) } }
            }
        }
        for (i, m) in p.mappings.enumerated() {
            w.appendMessageField(3) { x in
                x.appendNonZero(1, Int64(i + 1)); x.appendNonZero(2, Int64(bitPattern: m.memoryStart))
                x.appendNonZero(3, Int64(bitPattern: m.memoryLimit)); x.appendNonZero(4, Int64(bitPattern: m.fileOffset))
                x.appendNonZero(5, Int64(m.filename)); x.appendNonZero(6, Int64(m.buildID))
                x.appendNonZero(7, m.hasFunctions ? 1 : 0); x.appendNonZero(8, m.hasFilenames ? 1 : 0)
                x.appendNonZero(9, m.hasLineNumbers ? 1 : 0); x.appendNonZero(10, m.hasInlineFrames ? 1 : 0)
            }
        }
        for (i, l) in p.locations.enumerated() {
            w.appendMessageField(4) { x in
                x.appendNonZero(1, Int64(i + 1))
                x.appendNonZero(2, Int(l.mappingID) < p.mappings.count ? Int64(l.mappingID) + 1 : 0)
                x.appendNonZero(3, Int64(bitPattern: l.address))
                for line in l.lines {
                    x.appendMessageField(4) { $0.appendNonZero(1, Int64(line.functionID) + 1); $0.appendNonZero(2, Int64(line.line)) }
                }
                x.appendNonZero(5, l.isFolded ? 1 : 0)
            }
        }
        for (i, f) in p.functions.enumerated() {
            w.appendMessageField(5) { x in
                x.appendNonZero(1, Int64(i + 1)); x.appendNonZero(2, Int64(f.name)); x.appendNonZero(3, Int64(f.systemName))
                x.appendNonZero(4, Int64(f.filename)); x.appendNonZero(5, Int64(f.startLine))
            }
        }
        let periodTypeID = e.intern(periodType), periodUnitID = e.intern(periodUnit)
        for s in e.strings { w.appendBytesField(6, s.bytes) }
        w.appendNonZero(7, c.dropFrames[r])
        w.appendNonZero(8, c.keepFrames[r])
        w.appendNonZero(9, c.timeNanos[r])
        w.appendNonZero(10, c.durationNanos[r])
        w.appendMessageField(11) { $0.appendNonZero(1, periodTypeID); $0.appendNonZero(2, periodUnitID) }
        w.appendNonZero(12, c.period[r])
        w.appendNonZero(14, c.defaultSampleType[r])
        return w.bytes
    }
}

private extension ByteWriter {
    mutating func appendNonZero(_ field: UInt32, _ value: Int64) {
        if value != 0 { appendInt64Field(field, value) }
    }
}
