#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory of one shard's columns: address space reserved once, when the shard is made
/// (`mmap(MAP_NORESERVE)`, so the kernel commits a page only when a column first reaches it),
/// handed out by a bump pointer in cache-line-aligned blocks. Nothing is freed one block at a
/// time: a column that outgrows its block takes a larger one and leaves the old one behind
/// until `reset()`, which takes the pointer back to the start after a flush. The pages stay
/// committed, so the next segment reuses them without a fault, and the shard never holds more
/// than `capacityBytes` however its datasets come and go.
///
/// Confined to the shard's core, like the accumulator that owns it.
public final class ColumnArena {
    /// Bytes the arena can hand out; fixed when it is made. 0 when the reservation failed.
    public let capacityBytes: Int
    /// Why the address space could not be reserved (errno of `mmap`), or nil.
    public let reservationError: Int32?
    /// Bytes handed out since the last `reset()` (blocks left behind by growth included).
    public private(set) var usedBytes = 0
    /// The most bytes handed out in any segment: the pages committed so far.
    public private(set) var highWaterBytes = 0
    /// Incremented by every `reset()`: a column made in an earlier generation no longer owns
    /// its block (see `ArenaColumn.reset()`).
    public private(set) var generation = 0

    private let region: UnsafeMutableRawPointer
    private let regionBytes: Int

    /// Blocks start on a cache line: columns never share one.
    public static let alignment = 64

    /// Reserves `capacityBytes` of address space. `reserve` maps that many bytes or returns nil
    /// with `errno` set (tests substitute a failing one). A failed reservation does not stop the
    /// process: the arena then has no room and every push that needs some is refused.
    public init(capacityBytes: Int, reserve: (Int) -> UnsafeMutableRawPointer? = ColumnArena.reserveAddressSpace) {
        precondition(capacityBytes > 0, "column arena capacity must be positive")
        let bytes = (capacityBytes + Self.alignment - 1) & ~(Self.alignment - 1)
        if let base = reserve(bytes) {
            self.capacityBytes = bytes
            reservationError = nil
            region = base
            regionBytes = bytes
        } else {
            self.capacityBytes = 0
            reservationError = errno
            region = UnsafeMutableRawPointer.allocate(byteCount: Self.alignment, alignment: Self.alignment)
            regionBytes = 0
        }
    }

    deinit {
        if regionBytes > 0 { munmap(region, regionBytes) } else { region.deallocate() }
    }

    /// Address space only: the kernel commits a page when it is first written.
    public static func reserveAddressSpace(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let base = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        return base == MAP_FAILED ? nil : base
    }

    public var remainingBytes: Int { capacityBytes - usedBytes }

    /// What a block of `bytes` takes from the arena (its size rounded up to the alignment).
    @inline(__always)
    public static func blockBytes(_ bytes: Int) -> Int { (bytes + alignment - 1) & ~(alignment - 1) }

    /// A block of `bytes`, aligned to `alignment`. The caller checked `remainingBytes` against
    /// `blockBytes(bytes)` first (the accumulator admits a push only with room for everything it
    /// may allocate), so running out here is a broken invariant, not an input error.
    public func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let block = Self.blockBytes(bytes)
        precondition(bytes >= 0 && block <= remainingBytes,
                     "column arena overflow: \(block) bytes asked, \(remainingBytes) left of \(capacityBytes)")
        let start = region + usedBytes
        usedBytes += block
        return start
    }

    /// Forgets every block; the committed pages are kept for the next segment. Columns must be
    /// `reset()` before their next use (they then take a fresh block).
    public func reset() {
        highWaterBytes = max(highWaterBytes, usedBytes)
        usedBytes = 0
        generation &+= 1
    }
}
