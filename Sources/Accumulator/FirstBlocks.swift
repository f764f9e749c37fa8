/// First-reference order of the locations of a long run of frames without a test per frame:
/// the run is cut into blocks of `size` frames; one backward pass stores in each location's
/// slot the block it appears in (so the first block wins), with no load or branch per frame.
/// The blocks some location first appears in are marked in a bitmap and walked forward,
/// frame by frame, stamping: a location is listed in its first block, and every other block
/// holds only locations listed before it. Worth it when the frames far outnumber the
/// locations (the slots are reset and scanned once per run): heap profiles' deep stacks.
struct FirstBlocks {
    static let size = 8
    /// Below this many frames per location the frame-by-frame stamp is cheaper.
    static let minimumFramesPerLocation = 16
    static let none = UInt32.max

    /// Frames of the run, each a valid index of `firstBlock`.
    let frames: UnsafeBufferPointer<UInt32>
    /// One slot per location of the table (scratch: overwritten).
    let firstBlock: UnsafeMutableBufferPointer<UInt32>
    /// `words(frames:)` words, all zero; left all zero.
    let bits: UnsafeMutableBufferPointer<UInt64>

    /// A bit per block and a spare word after them.
    static func words(frames: Int) -> Int { ((frames + size - 1) / size + 63) / 64 + 1 }

    func collect(_ stamp: UnsafeMutableBufferPointer<UInt32>, _ gen: UInt32,
                 _ out: UnsafeMutableBufferPointer<Int32>, _ n: inout Int) {
        guard let base = frames.baseAddress else { return }
        firstBlock.update(repeating: Self.none)
        let whole = frames.count / Self.size
        // The partial last block first: it is the last, so any earlier block overwrites it.
        for k in whole * Self.size ..< frames.count { firstBlock[Int(frames[k])] = UInt32(truncatingIfNeeded: whole) }
        var block = whole
        while block > 0 {
            block &-= 1
            let f = base + block &* Self.size
            let b = UInt32(truncatingIfNeeded: block)
            firstBlock[Int(f[0])] = b
            firstBlock[Int(f[1])] = b
            firstBlock[Int(f[2])] = b
            firstBlock[Int(f[3])] = b
            firstBlock[Int(f[4])] = b
            firstBlock[Int(f[5])] = b
            firstBlock[Int(f[6])] = b
            firstBlock[Int(f[7])] = b
        }
        // Unreferenced slots (`none`) set a bit past the last block, in the spare last word.
        let spare = UInt32(truncatingIfNeeded: (bits.count - 1) * 64)
        for b in firstBlock {
            let i = min(b, spare)
            bits[Int(i &>> 6)] |= 1 &<< UInt64(i & 63)
        }
        bits[bits.count - 1] = 0
        @inline(__always) func visit(_ frame: UInt32) {
            let l = Int(frame)
            if stamp[l] != gen {
                stamp[l] = gen
                out[n] = Int32(truncatingIfNeeded: l)
                n &+= 1
            }
        }
        for w in 0 ..< bits.count - 1 {
            var word = bits[w]
            guard word != 0 else { continue }
            bits[w] = 0
            while word != 0 {
                let block = w &* 64 &+ word.trailingZeroBitCount
                word &= word &- 1
                if block < whole {
                    let f = base + block &* Self.size
                    visit(f[0]); visit(f[1]); visit(f[2]); visit(f[3])
                    visit(f[4]); visit(f[5]); visit(f[6]); visit(f[7])
                } else {
                    for k in whole * Self.size ..< frames.count { visit(frames[k]) }
                }
            }
        }
    }
}
