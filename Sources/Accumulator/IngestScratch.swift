/// Per-push working memory shared by all datasets of a shard (the shard is single-threaded).
/// Every column keeps its capacity, so a warm accumulator ingests without allocating.
/// Noncopyable like its columns (`ScratchColumn`): `IngestWorkspace` owns the one instance of a
/// core and lends it `inout` to each push, so the storage is freed once, with the workspace.
struct IngestScratch: ~Copyable {
    var split: SampleSplit
    var requestLabels = LabelBuilder()
    var annotations = LabelBuilder()
    var baseLabels = LabelBuilder()
    var seriesLabels = LabelBuilder()

    /// Source index → partition id, valid while the entry's `…Interned` stamp equals
    /// `pushGeneration`. Interning is deterministic, so a symbol one group of a push interned
    /// has the same id for every later group of that push (path d): it is hashed and probed
    /// once per push, not once per group. `stringMap` is read for kept strings only.
    var stringMap = ScratchColumn<UInt32>()
    var mappingMap = ScratchColumn<UInt32>()
    var functionMap = ScratchColumn<UInt32>()
    var locationMap = ScratchColumn<UInt32>()
    var stringInterned = ScratchColumn<UInt32>()
    var mappingInterned = ScratchColumn<UInt32>()
    var functionInterned = ScratchColumn<UInt32>()
    var locationInterned = ScratchColumn<UInt32>()
    var pushGeneration: UInt32 = 0

    /// Per-group marks (what the group references and exports), valid for `generation`.
    var stringStamp = ScratchColumn<UInt32>()
    var keptStamp = ScratchColumn<UInt32>()
    var mappingStamp = ScratchColumn<UInt32>()
    var functionStamp = ScratchColumn<UInt32>()
    var locationStamp = ScratchColumn<UInt32>()
    var generation: UInt32 = 0

    /// Export (re-indexed) string index of each source string, for `drop_frames`,
    /// `keep_frames` and comments of a split group (profiles-parquet.md §2.2 e).
    var exportString = ScratchColumn<Int64>()
    var referencedLocations = ScratchColumn<Int32>()
    /// Per source location, the first block of frames that references it, and one bit per
    /// block that is some location's first (`collectReferencedLocations`, large groups).
    var locationFirstBlock = ScratchColumn<UInt32>()
    var firstBlockBits = ScratchColumn<UInt64>()
    var sortedLocations = ScratchColumn<Int32>()
    var exportMappings = ScratchColumn<Int32>()
    var exportFunctions = ScratchColumn<Int32>()
    /// The exported string table holds "span_id" / "trace_id" (profiles-parquet.md §2.5).
    var exportHasSpanString = false
    var exportHasTraceString = false

    var stackIDs = ScratchColumn<UInt32>()
    var spans = ScratchColumn<UInt64>()
    var traceIDs = ScratchColumn<UInt128>()
    var order = ScratchColumn<UInt64>()
    var orderBuffer = ScratchColumn<UInt64>()
    var radixCounts = ScratchColumn<Int>()
    var locationSortBuffer = ScratchColumn<Int32>()
    /// An array: built by a few appends per row, in no loop over samples or symbols.
    var profileType: [UInt8] = []

    init(labelBytesMax: Int) { split = SampleSplit(labelBytesMax: labelBytesMax) }

    /// Starts a push: sizes the maps and stamps for the profile's tables and forgets what the
    /// previous push interned.
    mutating func beginPush(strings: Int, mappings: Int, functions: Int, locations: Int) {
        pushGeneration &+= 1
        if pushGeneration == 0 {
            pushGeneration = 1
            stringInterned.mutableElements.update(repeating: 0)
            mappingInterned.mutableElements.update(repeating: 0)
            functionInterned.mutableElements.update(repeating: 0)
            locationInterned.mutableElements.update(repeating: 0)
        }
        stringMap.resize(toAtLeast: strings, fill: 0)
        stringInterned.resize(toAtLeast: strings, fill: 0)
        stringStamp.resize(toAtLeast: strings, fill: 0)
        // Index 0 maps to "" unless a whole-profile ingest keeps a non-empty string_table[0]
        // (an exported sub-profile always starts with "", profiles-parquet.md §2.2 e).
        stringMap[0] = 0
        keptStamp.resize(toAtLeast: strings, fill: 0)
        exportString.resize(toAtLeast: strings, fill: 0)
        mappingMap.resize(toAtLeast: mappings, fill: 0)
        mappingInterned.resize(toAtLeast: mappings, fill: 0)
        mappingStamp.resize(toAtLeast: mappings, fill: 0)
        functionMap.resize(toAtLeast: functions, fill: 0)
        functionInterned.resize(toAtLeast: functions, fill: 0)
        functionStamp.resize(toAtLeast: functions, fill: 0)
        locationMap.resize(toAtLeast: locations, fill: 0)
        locationInterned.resize(toAtLeast: locations, fill: 0)
        locationStamp.resize(toAtLeast: locations, fill: 0)
    }

    /// Starts a new group of the current push: clears the per-group marks.
    mutating func beginGroup() {
        generation &+= 1
        if generation == 0 {
            generation = 1
            stringStamp.mutableElements.update(repeating: 0)
            keptStamp.mutableElements.update(repeating: 0)
            mappingStamp.mutableElements.update(repeating: 0)
            functionStamp.mutableElements.update(repeating: 0)
            locationStamp.mutableElements.update(repeating: 0)
        }
    }
}
