import Arena

/// The sample columns of one shard (stack id, value, span id, trace id: 36 bytes a sample),
/// shared by all of its datasets: each row's samples are one contiguous run, bump-allocated
/// at the end. A row without span or trace ids (most profiles) leaves those two columns of
/// its run unwritten (`Row.hasSampleIDs`), so their pages are touched only by rows with ids,
/// and such a row's samples are accounted 12 bytes each, not 36.
/// The address space for `capacity` samples is reserved once, when the shard is created, with
/// `mmap(MAP_NORESERVE)`; the kernel commits it a page at a time as samples first reach it.
/// `reset()` after a flush only moves the bump pointer back, so the pages stay committed and
/// the next segment reuses them without a fault: a shard holds at most the samples of its
/// largest segment, never more than `capacity`, and nothing grows, copies or frees on the hot
/// path. (Per-dataset arrays kept the capacity of each dataset's largest segment separately and
/// copied on every growth.)
///
/// Confined to the shard's core like its `ShardAccumulator`.
final class SampleArena {
    /// Samples the arena can hold; fixed when it is made. 0 when the reservation failed.
    let capacity: Int
    /// Why the address space could not be reserved (errno of `mmap`), or nil.
    let reservationError: Int32?
    /// Samples allocated since the last `reset()`.
    private(set) var count = 0
    /// Samples committed by earlier segments (the high-water mark): memory already resident.
    private(set) var highWater = 0
    /// The end of the furthest run written with span and trace ids since the last `reset()`.
    private(set) var idEnd = 0
    /// The same for earlier segments: below it those columns' pages may be resident.
    private(set) var idHighWater = 0

    let stacks: UnsafeMutablePointer<UInt32>
    let values: UnsafeMutablePointer<UInt64>
    let spans: UnsafeMutablePointer<UInt64>
    let traces: UnsafeMutablePointer<UInt128>

    /// The reservation: one block of `capacity` samples, taken when the arena is made.
    private let region: ColumnArena

    static let bytesPerSample = 36
    /// A sample's stack id and value, written for every sample.
    static let valueBytesPerSample = 12
    /// A sample's span and trace ids, written only by rows that have them.
    static let idBytesPerSample = bytesPerSample - valueBytesPerSample

    /// Reserves room for `capacity` samples. `reserve` maps that many bytes or returns nil
    /// with `errno` set (tests substitute a failing one). A failed reservation does not stop
    /// the process: the arena then holds nothing and every push with samples is refused.
    init(capacity: Int, reserve: (Int) -> UnsafeMutableRawPointer? = ColumnArena.reserveAddressSpace) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max), "sample arena capacity out of range")
        region = ColumnArena(capacityBytes: capacity * Self.bytesPerSample, reserve: reserve)
        reservationError = region.reservationError
        self.capacity = region.capacityBytes == 0 ? 0 : capacity
        let n = self.capacity
        // 16-byte columns first keep every column aligned without padding.
        let base = region.allocate(bytes: n * Self.bytesPerSample)
        traces = base.bindMemory(to: UInt128.self, capacity: n)
        values = (base + n * 16).bindMemory(to: UInt64.self, capacity: n)
        spans = (base + n * 24).bindMemory(to: UInt64.self, capacity: n)
        stacks = (base + n * 32).bindMemory(to: UInt32.self, capacity: n)
    }

    var remaining: Int { capacity - count }

    /// Bytes the arena has committed so far (its resident share; bounded by `capacity`): the
    /// stack and value columns up to the furthest sample, the id columns up to the furthest
    /// run written with ids.
    var committedBytes: Int {
        max(count, highWater) * Self.valueBytesPerSample + max(idEnd, idHighWater) * Self.idBytesPerSample
    }

    /// Appends `n` samples and returns the first one's position. The caller checked `remaining`
    /// before committing its push (a push never fails half way).
    func allocate(_ n: Int) -> Int {
        precondition(n <= remaining, "sample arena overflow: the push was admitted without room")
        let start = count
        count += n
        return start
    }

    /// Gives back the last `n` samples of the run allocated last (room taken for a row before
    /// its zero values were dropped; never written).
    func releaseLast(_ n: Int) {
        precondition(n >= 0 && n <= count, "sample arena release larger than the last run")
        count -= n
    }

    /// The run just written, ending at `end`, wrote span and trace ids.
    func wroteIDs(upTo end: Int) {
        precondition(end <= count, "ids written past the allocated samples")
        idEnd = max(idEnd, end)
    }

    /// Forgets every sample; the committed pages are kept for the next segment.
    func reset() {
        highWater = max(highWater, count)
        idHighWater = max(idHighWater, idEnd)
        count = 0
        idEnd = 0
    }
}
