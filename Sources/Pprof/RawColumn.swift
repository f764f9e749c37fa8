/// A column under construction during `decode`: raw storage written through a pointer, kept
/// between profiles (grows geometrically, never shrinks), copied into its `PprofTables` array
/// in one bulk append per profile. `Array.append` costs a uniqueness and a capacity check per
/// element, and a bulk append per packed run about 250 instructions (README.md, "Hot path").
/// Owned by `PprofDecoder`, which frees it; copies of a `PprofTables` share the storage but
/// never touch it (only `decode` does).
struct RawColumn<Element> {
    private(set) var base: UnsafeMutablePointer<Element>?
    private(set) var capacity = 0
    var count = 0

    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    /// Makes room for `n` more elements; `n` is bounded by the profile size (a varint or an
    /// element takes at least one byte), so growth is bounded by it too.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if n > capacity &- count { grow(toAtLeast: count + n) }
    }

    @inline(never)
    private mutating func grow(toAtLeast minimum: Int) {
        precondition(_isPOD(Element.self), "trivial elements only: storage is freed without deinitializing")
        let newCapacity = max(minimum, 2 * capacity, 256)
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let old = base {
            grown.initialize(from: old, count: count)
            old.deallocate()
        }
        base = grown
        capacity = newCapacity
    }

    /// The first unwritten slot; `reserve` first.
    @inline(__always)
    var end: UnsafeMutablePointer<Element> { base.unsafelyUnwrapped + count }

    @inline(__always)
    mutating func append(_ element: Element) {
        reserve(1)
        appendReserved(element)
    }

    /// Appends into room a `reserve` made.
    @inline(__always)
    mutating func appendReserved(_ element: Element) {
        end.initialize(to: element)
        count &+= 1
    }

    func deallocate() { base?.deallocate() }
}

/// The columns of the profile being decoded (all but the few cold ones); `publishStaging`
/// copies them into the public arrays once the profile has decoded.
struct StagingColumns {
    var locationIDs = RawColumn<UInt64>()
    /// Values and comments as their bit patterns: one varint reader for all packed runs.
    var values = RawColumn<UInt64>()
    var labels = RawColumn<SampleLabel>()
    /// Per sample, the counts after it: the `sample…Starts` columns without their leading 0.
    var locationEnds = RawColumn<UInt32>()
    var valueEnds = RawColumn<UInt32>()
    var labelEnds = RawColumn<UInt32>()
    var comments = RawColumn<UInt64>()
    var locations = RawColumn<LocationRecord>()
    var lines = RawColumn<LineRecord>()
    var functions = RawColumn<FunctionRecord>()
    var strings = RawColumn<StringRef>()
    /// Built by `resolveReferences`, then copied into `sampleLocationIndices`.
    var locationIndices = RawColumn<UInt32>()

    mutating func removeAll() {
        locationIDs.count = 0; values.count = 0; labels.count = 0
        locationEnds.count = 0; valueEnds.count = 0; labelEnds.count = 0
        comments.count = 0
        locations.count = 0; lines.count = 0; functions.count = 0; strings.count = 0
    }

    /// Closes the current sample. Counts are bounded by the input size, below 2^32 (`decode`).
    /// The three ends columns grow together (same appends, same growth), so one check covers them.
    @inline(__always)
    mutating func endSample() {
        if locationEnds.count == locationEnds.capacity {
            locationEnds.reserve(1); valueEnds.reserve(1); labelEnds.reserve(1)
            precondition(valueEnds.capacity == locationEnds.capacity && labelEnds.capacity == locationEnds.capacity)
        }
        locationEnds.appendReserved(UInt32(truncatingIfNeeded: locationIDs.count))
        valueEnds.appendReserved(UInt32(truncatingIfNeeded: values.count))
        labelEnds.appendReserved(UInt32(truncatingIfNeeded: labels.count))
    }

    func deallocate() {
        locationIDs.deallocate(); values.deallocate(); labels.deallocate()
        locationEnds.deallocate(); valueEnds.deallocate(); labelEnds.deallocate()
        comments.deallocate(); locationIndices.deallocate()
        locations.deallocate(); lines.deallocate(); functions.deallocate(); strings.deallocate()
    }
}
