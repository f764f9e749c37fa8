/// A column of the per-core ingest scratch (`IngestScratch`, `SampleSplit`): raw storage
/// written through its pointer, kept between pushes (grows geometrically, never shrinks).
/// An array written through `inout` scratch checked its uniqueness (copy-on-write) on every
/// store, so hot loops had to move each array out, write it through a pointer and put it back.
///
/// Noncopyable: the column owns its storage and frees it once, in `deinit`; a copy would alias
/// it, and a grown copy would leave the original pointing at freed memory. (`Pprof.RawColumn`
/// is the decoder's copyable twin, whose copies share storage they never write.)
/// Trivial elements only: storage is freed without deinitializing.
struct ScratchColumn<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>?
    private(set) var capacity = 0
    private(set) var count = 0

    init() {
        precondition(_isPOD(Element.self), "trivial elements only: storage is freed without deinitializing")
    }

    deinit { base?.deallocate() }

    /// Elements `0 ..< count`, for loops over many of them: the pointer's subscript is
    /// bounds-checked in debug builds only. Valid until the column next grows.
    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
    var mutableElements: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// Bounds-checked access for the odd element; the write goes through the pointer, so it
    /// needs no exclusive access to the owner.
    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count, "index out of range")
            return base.unsafelyUnwrapped[i]
        }
        nonmutating set {
            precondition(i >= 0 && i < count, "index out of range")
            base.unsafelyUnwrapped[i] = newValue
        }
    }

    /// Grows to `n` elements when shorter, the new ones set to `fill`. Inlined so that a
    /// constant fill (0, mostly) becomes a `memset` rather than a loop over a runtime value.
    @inline(__always)
    mutating func resize(toAtLeast n: Int, fill: Element) {
        guard n > count else { return }
        if n > capacity { grow(toAtLeast: n) }
        (base.unsafelyUnwrapped + count).initialize(repeating: fill, count: n - count)
        count = n
    }

    /// Empties the column, then holds `n` elements set to `fill`.
    @inline(__always)
    mutating func refill(count n: Int, with fill: Element) {
        count = 0
        resize(toAtLeast: n, fill: fill)
    }

    /// Empties the column, then holds `n` elements of unspecified value (left from earlier use,
    /// or never written), for a loop that writes each element before anything reads it: sized
    /// to a bound, written through `mutableElements`, then `truncate`d to what was written.
    /// It spares the fill that `refill` pays for values that would all be overwritten.
    mutating func reset(count n: Int) {
        count = 0
        if n > capacity { grow(toAtLeast: n) }
        count = n
    }

    /// Drops the elements after the first `n`.
    mutating func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "truncating past the end")
        count = n
    }

    /// Empties the column, keeping its capacity.
    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(toAtLeast: count + 1) }
        (base.unsafelyUnwrapped + count).initialize(to: element)
        count &+= 1
    }

    @inline(never)
    private mutating func grow(toAtLeast minimum: Int) {
        let newCapacity = max(minimum, 2 * capacity, 64)
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let old = base {
            grown.initialize(from: old, count: count)
            old.deallocate()
        }
        base = grown
        capacity = newCapacity
    }
}
