import BinaryCoding

/// One decoded pprof `Profile`, columnar, as the head consumes it. Filled from the Pprof
/// decoder's buffers for each push and reused (`reset` keeps capacity), so ingest does not
/// allocate in steady state. Strings are views into the decoded message: they are valid
/// only while the push is being ingested.
public struct ProfileInput {
    public var strings: [UnsafeRawBufferPointer] = []

    public var sampleTypeType: [Int64] = []
    public var sampleTypeUnit: [Int64] = []

    /// Sample `s` has `sampleLocationCount[s]` ids starting at `sampleLocationStart[s]`
    /// in `sampleLocationIDs`, `sampleTypeType.count` values at `s * typeCount` in
    /// `sampleValues`, and labels `[sampleLabelStart[s], +sampleLabelCount[s])`.
    public var sampleLocationStart: [Int32] = []
    public var sampleLocationCount: [Int32] = []
    public var sampleLocationIDs: [UInt64] = []
    public var sampleValueCount: [Int32] = []
    public var sampleValues: [Int64] = []
    public var sampleLabelStart: [Int32] = []
    public var sampleLabelCount: [Int32] = []
    public var labelKey: [Int64] = []
    public var labelStr: [Int64] = []
    public var labelNum: [Int64] = []
    public var labelNumUnit: [Int64] = []

    public var mappingID: [UInt64] = []
    public var mappingMemoryStart: [UInt64] = []
    public var mappingMemoryLimit: [UInt64] = []
    public var mappingFileOffset: [UInt64] = []
    public var mappingFilename: [Int64] = []
    public var mappingBuildID: [Int64] = []
    /// Bits: 1 has_functions, 2 has_filenames, 4 has_line_numbers, 8 has_inline_frames.
    public var mappingFlags: [UInt8] = []

    public var locationID: [UInt64] = []
    public var locationMappingID: [UInt64] = []
    public var locationAddress: [UInt64] = []
    public var locationIsFolded: [Bool] = []
    public var locationLineStart: [Int32] = []
    public var locationLineCount: [Int32] = []
    public var lineFunctionID: [UInt64] = []
    public var lineNumber: [Int64] = []

    public var functionID: [UInt64] = []
    public var functionName: [Int64] = []
    public var functionSystemName: [Int64] = []
    public var functionFilename: [Int64] = []
    public var functionStartLine: [Int64] = []

    public var dropFrames: Int64 = 0
    public var keepFrames: Int64 = 0
    public var timeNanos: Int64 = 0
    public var durationNanos: Int64 = 0
    public var hasPeriodType = false
    public var periodTypeType: Int64 = 0
    public var periodTypeUnit: Int64 = 0
    public var period: Int64 = 0
    public var comments: [Int64] = []
    public var defaultSampleType: Int64 = 0

    public init() {}

    public var sampleCount: Int { sampleLocationStart.count }

    /// String-table entry `i`; index 0 of an empty table reads as "".
    func string(_ i: Int64) -> UnsafeRawBufferPointer {
        i == 0 && strings.isEmpty ? UnsafeRawBufferPointer(start: nil, count: 0) : strings[Int(i)]
    }
    public var typeCount: Int { sampleTypeType.count }

    public mutating func reset() {
        strings.removeAll(keepingCapacity: true)
        sampleTypeType.removeAll(keepingCapacity: true)
        sampleTypeUnit.removeAll(keepingCapacity: true)
        sampleLocationStart.removeAll(keepingCapacity: true)
        sampleLocationCount.removeAll(keepingCapacity: true)
        sampleLocationIDs.removeAll(keepingCapacity: true)
        sampleValueCount.removeAll(keepingCapacity: true)
        sampleValues.removeAll(keepingCapacity: true)
        sampleLabelStart.removeAll(keepingCapacity: true)
        sampleLabelCount.removeAll(keepingCapacity: true)
        labelKey.removeAll(keepingCapacity: true)
        labelStr.removeAll(keepingCapacity: true)
        labelNum.removeAll(keepingCapacity: true)
        labelNumUnit.removeAll(keepingCapacity: true)
        mappingID.removeAll(keepingCapacity: true)
        mappingMemoryStart.removeAll(keepingCapacity: true)
        mappingMemoryLimit.removeAll(keepingCapacity: true)
        mappingFileOffset.removeAll(keepingCapacity: true)
        mappingFilename.removeAll(keepingCapacity: true)
        mappingBuildID.removeAll(keepingCapacity: true)
        mappingFlags.removeAll(keepingCapacity: true)
        locationID.removeAll(keepingCapacity: true)
        locationMappingID.removeAll(keepingCapacity: true)
        locationAddress.removeAll(keepingCapacity: true)
        locationIsFolded.removeAll(keepingCapacity: true)
        locationLineStart.removeAll(keepingCapacity: true)
        locationLineCount.removeAll(keepingCapacity: true)
        lineFunctionID.removeAll(keepingCapacity: true)
        lineNumber.removeAll(keepingCapacity: true)
        functionID.removeAll(keepingCapacity: true)
        functionName.removeAll(keepingCapacity: true)
        functionSystemName.removeAll(keepingCapacity: true)
        functionFilename.removeAll(keepingCapacity: true)
        functionStartLine.removeAll(keepingCapacity: true)
        comments.removeAll(keepingCapacity: true)
        dropFrames = 0; keepFrames = 0; timeNanos = 0; durationNanos = 0
        hasPeriodType = false; periodTypeType = 0; periodTypeUnit = 0; period = 0
        defaultSampleType = 0
    }
}
