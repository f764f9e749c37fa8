import BinaryCoding
import CShims

/// A pprof `Profile` as plain values, for the cold paths: tests, `segtool export`, load generators.
public struct PprofProfile: Equatable, Sendable {
    public struct Sample: Equatable, Sendable {
        public var locationIDs: [UInt64]
        public var values: [Int64]
        public var labels: [SampleLabel]

        public init(locationIDs: [UInt64] = [], values: [Int64] = [], labels: [SampleLabel] = []) {
            self.locationIDs = locationIDs
            self.values = values
            self.labels = labels
        }
    }

    public struct Location: Equatable, Sendable {
        public var id: UInt64
        public var mappingID: UInt64
        public var address: UInt64
        public var lines: [LineRecord]
        public var isFolded: Bool

        public init(id: UInt64, mappingID: UInt64 = 0, address: UInt64 = 0, lines: [LineRecord] = [], isFolded: Bool = false) {
            self.id = id
            self.mappingID = mappingID
            self.address = address
            self.lines = lines
            self.isFolded = isFolded
        }
    }

    public var sampleTypes: [ValueTypeRef] = []
    public var samples: [Sample] = []
    public var mappings: [MappingRecord] = []
    public var locations: [Location] = []
    public var functions: [FunctionRecord] = []
    public var stringTable: [ByteString] = [""]
    public var dropFrames: Int64 = 0
    public var keepFrames: Int64 = 0
    public var timeNanos: Int64 = 0
    public var durationNanos: Int64 = 0
    public var periodType: ValueTypeRef?
    public var period: Int64 = 0
    public var comments: [Int64] = []
    public var defaultSampleType: Int64 = 0

    public init() {}

    /// Index of `s` in the string table, appending it when new (a builder convenience).
    public mutating func intern(_ s: ByteString) -> Int64 {
        if let i = stringTable.firstIndex(of: s) { return Int64(i) }
        stringTable.append(s)
        return Int64(stringTable.count - 1)
    }
}

extension PprofProfile {
    /// Copies what `decoder` holds (ids as on the wire; resolution indices are not part of a pprof).
    public init(_ d: PprofDecoder) {
        self.init()
        sampleTypes = d.sampleTypes
        samples = (0 ..< d.sampleCount).map {
            Sample(locationIDs: Array(d.locationIDs(ofSample: $0)), values: Array(d.values(ofSample: $0)),
                   labels: Array(d.labels(ofSample: $0)))
        }
        mappings = d.mappings
        locations = d.locations.indices.map { i in
            let l = d.locations[i]
            let lines = d.lines(ofLocation: i).map { LineRecord(functionID: $0.functionID, line: $0.line, column: $0.column) }
            return Location(id: l.id, mappingID: l.mappingID, address: l.address, lines: lines, isFolded: l.isFolded)
        }
        functions = Array(d.functions)
        stringTable = d.strings.indices.map { ByteString(d.string($0)) }
        dropFrames = d.dropFrames
        keepFrames = d.keepFrames
        timeNanos = d.timeNanos
        durationNanos = d.durationNanos
        periodType = d.periodType
        period = d.period
        comments = Array(d.comments)
        defaultSampleType = d.defaultSampleType
    }
}

/// Encodes a `PprofProfile` the way Go's generated marshaller does: fields in number order,
/// proto3 zero values omitted, repeated scalars packed. Cold path.
public enum PprofEncoder {
    public static func encode(_ p: PprofProfile) -> [UInt8] {
        var w = ByteWriter()
        for t in p.sampleTypes { w.appendMessageField(1) { valueType(&$0, t) } }
        for s in p.samples { w.appendMessageField(2) { sample(&$0, s) } }
        for m in p.mappings { w.appendMessageField(3) { mapping(&$0, m) } }
        for l in p.locations { w.appendMessageField(4) { location(&$0, l) } }
        for f in p.functions { w.appendMessageField(5) { function(&$0, f) } }
        for s in p.stringTable { w.appendBytesField(6, s.bytes) }
        int(&w, 7, p.dropFrames)
        int(&w, 8, p.keepFrames)
        int(&w, 9, p.timeNanos)
        int(&w, 10, p.durationNanos)
        if let t = p.periodType { w.appendMessageField(11) { valueType(&$0, t) } }
        int(&w, 12, p.period)
        w.appendPackedVarints(13, p.comments.map { UInt64(bitPattern: $0) })
        int(&w, 14, p.defaultSampleType)
        return w.bytes
    }

    /// `encode` then gzip (one member), as `pprof.Marshal(p, true)` sends it.
    public static func encodeGzip(_ p: PprofProfile, level: Int32 = 6) -> [UInt8] {
        gzip(encode(p), level: level)
    }

    /// One gzip member of `bytes` via libdeflate.
    public static func gzip(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        guard let c = libdeflate_alloc_compressor(level) else { fatalError("libdeflate: out of memory") }
        defer { libdeflate_free_compressor(c) }
        let bound = libdeflate_gzip_compress_bound(c, bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { libdeflate_gzip_compress(c, src.baseAddress, src.count, $0.baseAddress, $0.count) }
        }
        precondition(n > 0, "gzip bound too small")
        out.removeLast(bound - n)
        return out
    }

    private static func int(_ w: inout ByteWriter, _ field: UInt32, _ v: Int64) {
        if v != 0 { w.appendInt64Field(field, v) }
    }

    private static func uint(_ w: inout ByteWriter, _ field: UInt32, _ v: UInt64) {
        if v != 0 { w.appendVarintField(field, v) }
    }

    private static func bool(_ w: inout ByteWriter, _ field: UInt32, _ v: Bool) {
        if v { w.appendVarintField(field, 1) }
    }

    private static func valueType(_ w: inout ByteWriter, _ t: ValueTypeRef) {
        int(&w, 1, t.type)
        int(&w, 2, t.unit)
    }

    private static func sample(_ w: inout ByteWriter, _ s: PprofProfile.Sample) {
        w.appendPackedVarints(1, s.locationIDs)
        w.appendPackedVarints(2, s.values.map { UInt64(bitPattern: $0) })
        for l in s.labels {
            w.appendMessageField(3) {
                int(&$0, 1, l.key)
                int(&$0, 2, l.str)
                int(&$0, 3, l.num)
                int(&$0, 4, l.numUnit)
            }
        }
    }

    private static func mapping(_ w: inout ByteWriter, _ m: MappingRecord) {
        uint(&w, 1, m.id)
        uint(&w, 2, m.memoryStart)
        uint(&w, 3, m.memoryLimit)
        uint(&w, 4, m.fileOffset)
        int(&w, 5, m.filename)
        int(&w, 6, m.buildID)
        bool(&w, 7, m.hasFunctions)
        bool(&w, 8, m.hasFilenames)
        bool(&w, 9, m.hasLineNumbers)
        bool(&w, 10, m.hasInlineFrames)
    }

    private static func location(_ w: inout ByteWriter, _ l: PprofProfile.Location) {
        uint(&w, 1, l.id)
        uint(&w, 2, l.mappingID)
        uint(&w, 3, l.address)
        for line in l.lines {
            w.appendMessageField(4) {
                uint(&$0, 1, line.functionID)
                int(&$0, 2, line.line)
                int(&$0, 3, line.column)
            }
        }
        bool(&w, 5, l.isFolded)
    }

    private static func function(_ w: inout ByteWriter, _ f: FunctionRecord) {
        uint(&w, 1, f.id)
        int(&w, 2, f.name)
        int(&w, 3, f.systemName)
        int(&w, 4, f.filename)
        int(&w, 5, f.startLine)
    }
}
