/// A column of the decoded profile: raw storage written through a pointer, kept between
/// profiles (grows geometrically, never shrinks); `PprofTables` exposes it as a buffer view once
/// the profile has decoded. `Array.append` costs a uniqueness and a capacity check per element,
/// a bulk append per packed run about 250 instructions, and copying the finished columns into
/// arrays was a second write of every sample (README.md, "Hot path").
/// Owned by `PprofDecoder`, which frees it; copies of a `PprofTables` share the storage but
/// never write it (only `decode` and `resolveReferences` do). Package-visible for the
/// accumulator's `ScratchColumn`, a noncopyable owner of one (the same growth, freed once).
package struct RawColumn<Element> {
    package private(set) var base: UnsafeMutablePointer<Element>?
    package private(set) var capacity = 0
    package var count = 0

    package init() {}

    @inlinable
    package var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
    @inlinable
    package var mutableElements: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// The elements as their signed twins (values and comments are read as `UInt64` bit patterns,
    /// one varint reader for all packed runs); signed and unsigned integers may alias.
    func elements<Signed>(as: Signed.Type) -> UnsafeBufferPointer<Signed> {
        precondition(MemoryLayout<Signed>.stride == MemoryLayout<Element>.stride)
        return UnsafeBufferPointer(start: base.map { UnsafeRawPointer($0).assumingMemoryBound(to: Signed.self) }, count: count)
    }

    /// Makes room for `n` more elements; `n` is bounded by the profile size (a varint or an
    /// element takes at least one byte), so growth is bounded by it too.
    @inlinable @inline(__always)
    package mutating func reserve(_ n: Int) {
        if n > capacity &- count { grow(toAtLeast: count + n) }
    }

    @inlinable @inline(never)
    package mutating func grow(toAtLeast minimum: Int) {
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
    @inlinable @inline(__always)
    package var end: UnsafeMutablePointer<Element> { base.unsafelyUnwrapped + count }

    @inlinable @inline(__always)
    package mutating func append(_ element: Element) {
        reserve(1)
        appendReserved(element)
    }

    /// Appends into room a `reserve` made.
    @inlinable @inline(__always)
    package mutating func appendReserved(_ element: Element) {
        end.initialize(to: element)
        count &+= 1
    }

    package func deallocate() { base?.deallocate() }
}

/// The columns of the profile being decoded (all but the few cold ones); `publishStaging`
/// points the public views at them once the profile has decoded.
struct StagingColumns {
    var locationIDs = RawColumn<UInt64>()
    /// Values and comments as their bit patterns: one varint reader for all packed runs.
    var values = RawColumn<UInt64>()
    var labels = RawColumn<SampleLabel>()
    /// A leading 0, then per sample the counts after it: the `sample…Starts` columns.
    var locationStarts = RawColumn<UInt32>()
    var valueStarts = RawColumn<UInt32>()
    var labelStarts = RawColumn<UInt32>()
    var comments = RawColumn<UInt64>()
    var locations = RawColumn<LocationRecord>()
    var lines = RawColumn<LineRecord>()
    var functions = RawColumn<FunctionRecord>()
    var strings = RawColumn<StringRef>()
    /// Built by `resolveReferences`: `sampleLocationIndices`.
    var locationIndices = RawColumn<UInt32>()

    /// Empty columns; the starts columns hold their leading 0.
    mutating func removeAll() {
        locationIDs.count = 0; values.count = 0; labels.count = 0
        locationStarts.count = 0; valueStarts.count = 0; labelStarts.count = 0
        endSample()
        comments.count = 0; locationIndices.count = 0
        locations.count = 0; lines.count = 0; functions.count = 0; strings.count = 0
    }

    /// Closes the current sample. Counts are bounded by the input size, below 2^32 (`decode`).
    /// The three starts columns grow together (same appends, same growth), so one check covers them.
    @inline(__always)
    mutating func endSample() {
        if locationStarts.count == locationStarts.capacity {
            locationStarts.reserve(1); valueStarts.reserve(1); labelStarts.reserve(1)
            precondition(valueStarts.capacity == locationStarts.capacity && labelStarts.capacity == locationStarts.capacity)
        }
        locationStarts.appendReserved(UInt32(truncatingIfNeeded: locationIDs.count))
        valueStarts.appendReserved(UInt32(truncatingIfNeeded: values.count))
        labelStarts.appendReserved(UInt32(truncatingIfNeeded: labels.count))
    }

    func deallocate() {
        locationIDs.deallocate(); values.deallocate(); labels.deallocate()
        locationStarts.deallocate(); valueStarts.deallocate(); labelStarts.deallocate()
        comments.deallocate(); locationIndices.deallocate()
        locations.deallocate(); lines.deallocate(); functions.deallocate(); strings.deallocate()
    }
}
