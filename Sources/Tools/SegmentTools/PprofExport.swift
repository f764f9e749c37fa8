import BinaryCoding
import Pprof
import SegmentObject
import SymbolDB

/// One profile row as a gzipped pprof, with the file name `export` gives it.
public struct ExportedProfile: Sendable {
    public var dataset: Int
    public var row: Int
    /// `__profile_type__` of the row's series.
    public var profileType: ByteString
    /// `<dataset>-<row>-<type with non-alphanumerics as _>.pb.gz`
    public var fileName: String
    public var gzip: [UInt8]
}

public enum PprofExport {
    /// Every row of service dataset `position`; throws when there is no such dataset.
    public static func export(_ verified: VerifiedSegmentObject, dataset position: Int) throws -> [ExportedProfile] {
        guard let d = verified.datasets.first(where: { $0.layout.position == position }), let rows = ProfileRows(d) else {
            throw SegmentToolError("no service dataset \(position)")
        }
        return try (0 ..< rows.columns.rowCount).map { r in
            let type = rows.profileType(r)
            let safe = String(type.description.map { $0.isLetter || $0.isNumber ? $0 : "_" })
            return ExportedProfile(dataset: position, row: r, profileType: type, fileName: "\(position)-\(r)-\(safe).pb.gz",
                                   gzip: PprofEncoder.encodeGzip(try profile(rows, row: r)))
        }
    }

    /// Row `r` as a pprof with one sample type: the partition's symbols as they are
    /// (IDs = index + 1), stacks leaf first, and the series' labels without the reserved
    /// `__…__` ones on every sample. The type and period come from the profile type ID
    /// `name:type:unit:periodType:periodUnit`.
    public static func profile(_ rows: ProfileRows, row r: Int) throws -> PprofProfile {
        let c = rows.columns
        guard let p = rows.partition(r) else {
            throw SegmentToolError("row \(r): no symbol partition \(c.stacktracePartition[r])")
        }
        var out = PprofProfile()
        out.stringTable = p.strings.isEmpty ? [""] : p.strings
        // `intern` scans the table; a map keeps big partitions linear.
        var index: [ByteString: Int64] = [:]
        for (i, s) in out.stringTable.enumerated() where index[s] == nil { index[s] = Int64(i) }
        func intern(_ s: ByteString) -> Int64 {
            if let i = index[s] { return i }
            out.stringTable.append(s)
            index[s] = Int64(out.stringTable.count - 1)
            return Int64(out.stringTable.count - 1)
        }
        let typeID = rows.profileType(r)
        let parts = typeID.bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map { ByteString(Array($0)) }
        let fiveParts = parts.count == 5
        out.sampleTypes = [ValueTypeRef(type: intern(fiveParts ? parts[1] : typeID), unit: intern(fiveParts ? parts[2] : ""))]
        let labels = rows.series[Int(c.seriesIndex[r])].labels.filter { !$0.name.bytes.starts(with: Array("__".utf8)) }
            .map { SampleLabel(key: intern($0.name), str: intern($0.value)) }
        var stack: [UInt32] = []
        for s in c.sampleOffsets[r] ..< c.sampleOffsets[r + 1] {
            try p.resolveStack(UInt32(truncatingIfNeeded: c.sampleStacktraceIDs[s]), into: &stack)
            out.samples.append(.init(locationIDs: stack.map { UInt64($0) + 1 }, values: [c.sampleValues[s]], labels: labels))
        }
        out.mappings = p.mappings.enumerated().map { i, m in
            var x = MappingRecord()
            x.id = UInt64(i + 1)
            x.memoryStart = m.memoryStart
            x.memoryLimit = m.memoryLimit
            x.fileOffset = m.fileOffset
            x.filename = Int64(m.filename)
            x.buildID = Int64(m.buildID)
            x.hasFunctions = m.hasFunctions
            x.hasFilenames = m.hasFilenames
            x.hasLineNumbers = m.hasLineNumbers
            x.hasInlineFrames = m.hasInlineFrames
            return x
        }
        out.locations = p.locations.enumerated().map { i, l in
            PprofProfile.Location(
                id: UInt64(i + 1), mappingID: Int(l.mappingID) < p.mappings.count ? UInt64(l.mappingID) + 1 : 0,
                address: l.address,
                lines: l.lines.map { LineRecord(functionID: UInt64($0.functionID) + 1, line: Int64($0.line)) },
                isFolded: l.isFolded)
        }
        out.functions = p.functions.enumerated().map { i, f in
            var x = FunctionRecord()
            x.id = UInt64(i + 1)
            x.name = Int64(f.name)
            x.systemName = Int64(f.systemName)
            x.filename = Int64(f.filename)
            x.startLine = Int64(f.startLine)
            return x
        }
        if fiveParts { out.periodType = ValueTypeRef(type: intern(parts[3]), unit: intern(parts[4])) }
        out.dropFrames = c.dropFrames[r]
        out.keepFrames = c.keepFrames[r]
        out.timeNanos = c.timeNanos[r]
        out.durationNanos = c.durationNanos[r]
        out.period = c.period[r]
        out.defaultSampleType = c.defaultSampleType[r]
        return out
    }
}
