import Pprof

/// A column of the per-core ingest scratch (`IngestScratch`, `SampleSplit`): raw storage
/// written through its pointer, kept between pushes (grows geometrically, never shrinks).
/// An array written through `inout` scratch checked its uniqueness (copy-on-write) on every
/// store, so hot loops had to move each array out, write it through a pointer and put it back.
///
/// The decoder's `RawColumn` (same storage and growth) made noncopyable: the column owns its
/// storage and frees it once, in `deinit`; a copy would alias it, and a grown copy would leave
/// the original pointing at freed memory. Trivial elements only (`RawColumn` checks).
struct ScratchColumn<Element>: ~Copyable {
    private var storage = RawColumn<Element>()

    init() {}

    deinit { storage.deallocate() }

    var count: Int { storage.count }
    var capacity: Int { storage.capacity }

    /// Elements `0 ..< count`, for loops over many of them: the pointer's subscript is
    /// bounds-checked in debug builds only. Valid until the column next grows.
    var elements: UnsafeBufferPointer<Element> { storage.elements }
    var mutableElements: UnsafeMutableBufferPointer<Element> { storage.mutableElements }

    /// Bounds-checked access for the odd element; the write goes through the pointer, so it
    /// needs no exclusive access to the owner.
    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count, "index out of range")
            return storage.base.unsafelyUnwrapped[i]
        }
        nonmutating set {
            precondition(i >= 0 && i < count, "index out of range")
            storage.base.unsafelyUnwrapped[i] = newValue
        }
    }

    /// Grows to `n` elements when shorter, the new ones set to `fill`. Inlined so that a
    /// constant fill (0, mostly) becomes a `memset` rather than a loop over a runtime value.
    @inline(__always)
    mutating func resize(toAtLeast n: Int, fill: Element) {
        guard n > count else { return }
        storage.reserve(n - count)
        storage.end.initialize(repeating: fill, count: n - count)
        storage.count = n
    }

    /// Empties the column, then holds `n` elements set to `fill`.
    @inline(__always)
    mutating func refill(count n: Int, with fill: Element) {
        storage.count = 0
        resize(toAtLeast: n, fill: fill)
    }

    /// Empties the column, then holds `n` elements of unspecified value (left from earlier use,
    /// or never written), for a loop that writes each element before anything reads it: sized
    /// to a bound, written through `mutableElements`, then `truncate`d to what was written.
    /// It spares the fill that `refill` pays for values that would all be overwritten.
    mutating func reset(count n: Int) {
        storage.count = 0
        storage.reserve(n)
        storage.count = n
    }

    /// Drops the elements after the first `n`.
    mutating func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "truncating past the end")
        storage.count = n
    }

    /// Empties the column, keeping its capacity.
    mutating func removeAll() { storage.count = 0 }

    @inline(__always)
    mutating func append(_ element: Element) { storage.append(element) }
}
