import BinaryCoding
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// First-occurrence string dictionary of one symbols partition (symdb.md §3.3).
///
/// Strings live back to back in one byte arena; an open-addressing index maps a hash to
/// the string's position (an in-memory hash, never written out: `HashMix.bytes`). Interning a string that is already present allocates nothing;
/// a new one is copied into place in an arena padded ahead of use (an `append(contentsOf:)`
/// per string copied byte by byte); capacities survive `reset()`.
struct StringTable {
    /// The strings back to back in `arena[..<byteCount]`; past that, padding not yet used.
    private var arena: [UInt8] = []
    private(set) var byteCount = 0
    /// `ends[i]` is the end offset of string `i` in `bytes`; string `i` starts at `ends[i-1]`.
    private(set) var ends: [Int] = []
    private var index = SlotIndex()

    init() { reset() }

    var count: Int { ends.count }
    var reservedBytes: Int { arena.capacity + ends.capacity * 16 }

    /// The strings' bytes back to back (a copy, for the writer).
    var bytes: [UInt8] { Array(arena[..<byteCount]) }

    /// Empties the table but keeps its capacity; the partition starts as `[""]`.
    mutating func reset() {
        byteCount = 0
        ends.removeAll(keepingCapacity: true)
        index.reset()
        _ = intern(UnsafeRawBufferPointer(start: nil, count: 0))
    }

    func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1]) ..< ends[i] }

    func string(_ i: Int) -> ByteString { ByteString(Array(arena[range(i)])) }

    /// The partition index of `s`, appending it when new.
    mutating func intern(_ s: UnsafeRawBufferPointer) -> UInt32 {
        let h = HashMix.bytes(s)
        var slot = index.firstSlot(h)
        while true {
            let entry = index.entry(at: slot)
            if entry < 0 { break }
            if index.mayMatch(h, at: slot), equals(entry, s) { return UInt32(entry) }
            slot = index.nextSlot(slot)
        }
        let i = ends.count
        let n = s.count
        if arena.count - byteCount < n { arena.append(contentsOf: repeatElement(0, count: max(n, arena.count, 4096))) }
        if n > 0 {
            let at = byteCount
            arena.withUnsafeMutableBytes { _ = memcpy($0.baseAddress! + at, s.baseAddress!, n) }
        }
        byteCount += n
        ends.append(byteCount)
        index.insert(i, hash: h, at: slot)
        return UInt32(i)
    }

    private func equals(_ entry: Int, _ s: UnsafeRawBufferPointer) -> Bool {
        let r = range(entry)
        guard r.count == s.count else { return false }
        return arena.withUnsafeBufferPointer { b in
            s.count == 0 || memcmp(b.baseAddress! + r.lowerBound, s.baseAddress!, s.count) == 0
        }
    }
}
