#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sample columns of one shard (stack id, value, span id, trace id: 36 bytes a sample),
/// shared by all of its datasets: each row's samples are one contiguous run, bump-allocated
/// at the end. The address space for `capacity` samples is reserved once, at start-up, with
/// `mmap(MAP_NORESERVE)`; the kernel commits it a page at a time as samples first reach it.
/// `reset()` after a flush only moves the bump pointer back, so the pages stay committed and
/// the next segment reuses them without a fault: a shard holds at most the samples of its
/// largest segment, never more than `capacity`, and nothing grows, copies or frees on the hot
/// path. (Per-dataset arrays kept the capacity of each dataset's largest segment separately and
/// copied on every growth.)
///
/// Confined to the shard's core like its `ShardAccumulator`.
final class SampleArena {
    /// Samples the arena can hold; fixed at start-up.
    let capacity: Int
    /// Samples allocated since the last `reset()`.
    private(set) var count = 0
    /// Samples committed by earlier segments (the high-water mark): memory already resident.
    private(set) var highWater = 0

    let stacks: UnsafeMutablePointer<UInt32>
    let values: UnsafeMutablePointer<UInt64>
    let spans: UnsafeMutablePointer<UInt64>
    let traces: UnsafeMutablePointer<UInt128>

    private let region: UnsafeMutableRawPointer
    private let regionBytes: Int

    static let bytesPerSample = 36

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max), "sample arena capacity out of range")
        self.capacity = capacity
        // 16-byte columns first keep every column aligned without padding.
        let traceBytes = capacity * 16, wordBytes = capacity * 8, stackBytes = capacity * 4
        regionBytes = traceBytes + 2 * wordBytes + stackBytes
        guard let base = mmap(nil, regionBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              base != MAP_FAILED else {
            fatalError("sample arena: cannot reserve \(regionBytes) bytes of address space (errno \(errno))")
        }
        region = base
        traces = base.bindMemory(to: UInt128.self, capacity: capacity)
        values = (base + traceBytes).bindMemory(to: UInt64.self, capacity: capacity)
        spans = (base + traceBytes + wordBytes).bindMemory(to: UInt64.self, capacity: capacity)
        stacks = (base + traceBytes + 2 * wordBytes).bindMemory(to: UInt32.self, capacity: capacity)
    }

    deinit { munmap(region, regionBytes) }

    var remaining: Int { capacity - count }

    /// Bytes of samples allocated since the last reset.
    var usedBytes: Int { count * Self.bytesPerSample }

    /// Bytes the arena has committed so far (its resident share; bounded by `capacity`).
    var committedBytes: Int { max(count, highWater) * Self.bytesPerSample }

    /// Appends `n` samples and returns the first one's position. The caller checked `remaining`
    /// before committing its push (a push never fails half way).
    func allocate(_ n: Int) -> Int {
        precondition(n <= remaining, "sample arena overflow: the push was admitted without room")
        let start = count
        count += n
        return start
    }

    /// Forgets every sample; the committed pages are kept for the next segment.
    func reset() {
        highWater = max(highWater, count)
        count = 0
    }
}
