import BinaryCoding

/// One decoded pprof `Profile`, columnar, as the head consumes it. Filled from the Pprof
/// decoder's buffers for each push and reused (`reset` keeps capacity), so ingest does not
/// allocate in steady state. Strings are views into the decoded message: they are valid
/// only while the push is being ingested.
struct ProfileInput {
    var strings: [UnsafeRawBufferPointer] = []

    var sampleTypeType: [Int64] = []
    var sampleTypeUnit: [Int64] = []

    /// Sample `s` has `sampleLocationCount[s]` ids starting at `sampleLocationStart[s]`
    /// in `sampleLocationIDs`, `sampleTypeType.count` values at `s * typeCount` in
    /// `sampleValues`, and labels `[sampleLabelStart[s], +sampleLabelCount[s])`.
    var sampleLocationStart: [Int32] = []
    var sampleLocationCount: [Int32] = []
    var sampleLocationIDs: [UInt64] = []
    var sampleValueCount: [Int32] = []
    var sampleValues: [Int64] = []
    var sampleLabelStart: [Int32] = []
    var sampleLabelCount: [Int32] = []
    var labelKey: [Int64] = []
    var labelStr: [Int64] = []
    var labelNumUnit: [Int64] = []

    var mappingID: [UInt64] = []
    var mappingMemoryStart: [UInt64] = []
    var mappingMemoryLimit: [UInt64] = []
    var mappingFileOffset: [UInt64] = []
    var mappingFilename: [Int64] = []
    var mappingBuildID: [Int64] = []
    /// Bits: 1 has_functions, 2 has_filenames, 4 has_line_numbers, 8 has_inline_frames.
    var mappingFlags: [UInt8] = []

    var locationID: [UInt64] = []
    var locationMappingID: [UInt64] = []
    var locationAddress: [UInt64] = []
    var locationIsFolded: [Bool] = []
    var locationLineStart: [Int32] = []
    var locationLineCount: [Int32] = []
    var lineFunctionID: [UInt64] = []
    var lineNumber: [Int64] = []

    var functionID: [UInt64] = []
    var functionName: [Int64] = []
    var functionSystemName: [Int64] = []
    var functionFilename: [Int64] = []
    var functionStartLine: [Int64] = []

    var dropFrames: Int64 = 0
    var keepFrames: Int64 = 0
    var timeNanos: Int64 = 0
    var durationNanos: Int64 = 0
    var hasPeriodType = false
    var periodTypeType: Int64 = 0
    var periodTypeUnit: Int64 = 0
    var comments: [Int64] = []
    var defaultSampleType: Int64 = 0

    init() {}

    var sampleCount: Int { sampleLocationStart.count }

    /// String-table entry `i`; index 0 of an empty table reads as "".
    func string(_ i: Int64) -> UnsafeRawBufferPointer {
        i == 0 && strings.isEmpty ? UnsafeRawBufferPointer(start: nil, count: 0) : strings[Int(i)]
    }
    var typeCount: Int { sampleTypeType.count }

    mutating func reset() {
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
        hasPeriodType = false; periodTypeType = 0; periodTypeUnit = 0
        defaultSampleType = 0
    }
}
