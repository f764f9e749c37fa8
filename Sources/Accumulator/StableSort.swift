/// Bottom-up merge sort into a caller's buffer: stable, and it allocates nothing (the standard
/// library's `sort` may allocate its own temporary storage on every call, which the ingest hot
/// path avoids).
enum StableSort {
    /// `buffer` is scratch of at least `a.count` elements.
    static func sort<T>(_ a: UnsafeMutableBufferPointer<T>, buffer: UnsafeMutableBufferPointer<T>, by less: (T, T) -> Bool) {
        let n = a.count
        guard n > 1 else { return }
        insertionSortRuns(a, run: 16, by: less)
        guard n > 16 else { return }
        precondition(buffer.count >= n, "the sort buffer is shorter than the elements")
        let spare = UnsafeMutableBufferPointer(rebasing: buffer[..<n])
        var width = 16
        var sourceIsA = true
        while width < n {
            if sourceIsA { mergePass(from: a, into: spare, width: width, by: less) } else { mergePass(from: spare, into: a, width: width, by: less) }
            sourceIsA.toggle()
            width *= 2
        }
        if !sourceIsA { _ = a.update(fromContentsOf: spare) }
    }

    private static func insertionSortRuns<T>(_ a: UnsafeMutableBufferPointer<T>, run: Int, by less: (T, T) -> Bool) {
        var start = 0
        while start < a.count {
            let end = min(start + run, a.count)
            var i = start + 1
            while i < end {
                let x = a[i]
                var j = i
                while j > start && less(x, a[j - 1]) {
                    a[j] = a[j - 1]
                    j -= 1
                }
                a[j] = x
                i += 1
            }
            start = end
        }
    }

    /// Merges adjacent runs of `width` from `source` into `target` (same length), writing all of it.
    private static func mergePass<T>(from source: UnsafeMutableBufferPointer<T>, into target: UnsafeMutableBufferPointer<T>,
                                     width: Int, by less: (T, T) -> Bool) {
        let n = source.count
        var lo = 0
        while lo < n {
            let mid = min(lo + width, n), hi = min(lo + 2 * width, n)
            var i = lo, j = mid, k = lo
            while i < mid && j < hi {
                // Take from the right run only when strictly smaller: stability.
                if less(source[j], source[i]) { target[k] = source[j]; j += 1 } else { target[k] = source[i]; i += 1 }
                k += 1
            }
            while i < mid { target[k] = source[i]; i += 1; k += 1 }
            while j < hi { target[k] = source[j]; j += 1; k += 1 }
            lo = hi
        }
    }
}

extension StableSort {
    /// Stable LSD radix sort of `a` by the high 32 bits only (11-bit digits, as many passes as
    /// the largest key needs: two for up to 4 M stack ids), keeping the order of equal keys.
    /// For keys `id << 32 | position` built in position order this is the full sort, at two
    /// linear passes instead of the merge sort's log n. `buffer` and `counts` are scratch.
    /// Already sorted input (common: new stacks get increasing ids) costs one scan, and short
    /// input is insertion-sorted (a radix pass clears and scans 2048 counters).
    static func sortByHighWord(_ a: inout ScratchColumn<UInt64>, buffer: inout ScratchColumn<UInt64>,
                               counts: inout ScratchColumn<Int>) {
        let n = a.count
        guard n > 1 else { return }
        let keys = a.mutableElements
        var highest: UInt64 = 0, sorted = true
        var previous: UInt64 = 0
        for k in keys {
            let high = k &>> 32
            if high < previous { sorted = false }
            previous = high
            highest = max(highest, high)
        }
        if sorted { return }
        if n <= 64 {
            for i in 1 ..< n {
                let x = keys[i]
                var j = i
                while j > 0 && keys[j - 1] &>> 32 > x &>> 32 {
                    keys[j] = keys[j - 1]
                    j -= 1
                }
                keys[j] = x
            }
            return
        }
        var passes = 0
        while passes < 3 && highest >> UInt64(passes * 11) != 0 { passes += 1 }
        buffer.reset(count: n)
        counts.resize(toAtLeast: 2048 * passes, fill: 0)
        // A digit's histogram does not depend on the order: all of them in one read of the keys
        // (then one offset table per digit), instead of a counting read per pass.
        let count = counts.mutableElements
        count.update(repeating: 0)
        if passes == 1 {
            for k in keys { count[Int(k &>> 32 & 2047)] &+= 1 }
        } else {
            for k in keys {
                count[Int(k &>> 32 & 2047)] &+= 1
                count[2048 &+ Int(k &>> 43 & 2047)] &+= 1
            }
            if passes == 3 { for k in keys { count[4096 &+ Int(k &>> 54 & 2047)] &+= 1 } }
        }
        for pass in 0 ..< passes {
            var at = 0
            for d in pass * 2048 ..< (pass + 1) * 2048 {
                let c = count[d]
                count[d] = at
                at += c
            }
        }
        for pass in 0 ..< passes {
            let shift = UInt64(32 + pass * 11)  // < 64: `&>>` below never masks
            let source = a.mutableElements, target = buffer.mutableElements
            let base = pass * 2048
            for k in source {
                let d = base &+ Int(k &>> shift & 2047)
                target[count[d]] = k
                count[d] += 1
            }
            swap(&a, &buffer)
        }
    }
}
