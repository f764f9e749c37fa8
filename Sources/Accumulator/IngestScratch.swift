/// Per-push working memory shared by all datasets of a shard (the shard is single-threaded).
/// Every array keeps its capacity, so a warm accumulator ingests without allocating.
struct IngestScratch {
    var split: SampleSplit
    var requestLabels = LabelBuilder()
    var annotations = LabelBuilder()
    var baseLabels = LabelBuilder()
    var seriesLabels = LabelBuilder()

    /// Source index → partition id, valid while the entry's `…Interned` stamp equals
    /// `pushGeneration`. Interning is deterministic, so a symbol one group of a push interned
    /// has the same id for every later group of that push (path d): it is hashed and probed
    /// once per push, not once per group. `stringMap` is read for kept strings only.
    var stringMap: [UInt32] = []
    var mappingMap: [UInt32] = []
    var functionMap: [UInt32] = []
    var locationMap: [UInt32] = []
    var stringInterned: [UInt32] = []
    var mappingInterned: [UInt32] = []
    var functionInterned: [UInt32] = []
    var locationInterned: [UInt32] = []
    var pushGeneration: UInt32 = 0

    /// Per-group marks (what the group references and exports), valid for `generation`.
    var stringStamp: [UInt32] = []
    var keptStamp: [UInt32] = []
    var mappingStamp: [UInt32] = []
    var functionStamp: [UInt32] = []
    var locationStamp: [UInt32] = []
    var generation: UInt32 = 0

    /// Export (re-indexed) string index of each source string, for `drop_frames`,
    /// `keep_frames` and comments of a split group (profiles-parquet.md §2.2 e).
    var exportString: [Int64] = []
    var referencedLocations: [Int32] = []
    /// Per source location, the first block of frames that references it, and one bit per
    /// block that is some location's first (`collectReferencedLocations`, large groups).
    var locationFirstBlock: [UInt32] = []
    var firstBlockBits: [UInt64] = []
    var sortedLocations: [Int32] = []
    var exportMappings: [Int32] = []
    var exportFunctions: [Int32] = []
    /// The exported string table holds "span_id" / "trace_id" (profiles-parquet.md §2.5).
    var exportHasSpanString = false
    var exportHasTraceString = false

    var stackIDs: [UInt32] = []
    var spans: [UInt64] = []
    var traceIDs: [UInt128] = []
    var order: [UInt64] = []
    var orderBuffer: [UInt64] = []
    var radixCounts: [Int] = []
    var locationSortBuffer: [Int32] = []
    var profileType: [UInt8] = []

    init(labelBytesMax: Int) { split = SampleSplit(labelBytesMax: labelBytesMax) }

    /// Starts a push: sizes the maps and stamps for the profile's tables and forgets what the
    /// previous push interned.
    mutating func beginPush(strings: Int, mappings: Int, functions: Int, locations: Int) {
        pushGeneration &+= 1
        if pushGeneration == 0 {
            pushGeneration = 1
            for i in stringInterned.indices { stringInterned[i] = 0 }
            for i in mappingInterned.indices { mappingInterned[i] = 0 }
            for i in functionInterned.indices { functionInterned[i] = 0 }
            for i in locationInterned.indices { locationInterned[i] = 0 }
        }
        Self.grow(&stringMap, &stringInterned, &stringStamp, to: strings)
        // Index 0 maps to "" unless a whole-profile ingest keeps a non-empty string_table[0]
        // (an exported sub-profile always starts with "", profiles-parquet.md §2.2 e).
        stringMap[0] = 0
        while keptStamp.count < strings { keptStamp.append(0) }
        while exportString.count < strings { exportString.append(0) }
        Self.grow(&mappingMap, &mappingInterned, &mappingStamp, to: mappings)
        Self.grow(&functionMap, &functionInterned, &functionStamp, to: functions)
        Self.grow(&locationMap, &locationInterned, &locationStamp, to: locations)
    }

    /// Starts a new group of the current push: clears the per-group marks.
    mutating func beginGroup() {
        generation &+= 1
        if generation == 0 {
            generation = 1
            for i in stringStamp.indices { stringStamp[i] = 0; keptStamp[i] = 0 }
            for i in mappingStamp.indices { mappingStamp[i] = 0 }
            for i in functionStamp.indices { functionStamp[i] = 0 }
            for i in locationStamp.indices { locationStamp[i] = 0 }
        }
    }

    private static func grow(_ map: inout [UInt32], _ interned: inout [UInt32], _ stamp: inout [UInt32], to n: Int) {
        while map.count < n { map.append(0) }
        while interned.count < n { interned.append(0) }
        while stamp.count < n { stamp.append(0) }
    }
}
