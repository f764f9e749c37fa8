import Arena

/// The stable sort of samples by their grouping labels (profiles-parquet.md §2.2 b), done on
/// distinct label sets: samples are classed by their (key, str) list through a hash and an
/// exact comparison, only the classes are sorted, then samples are placed class by class in
/// sample order. That is the order a stable sort of the samples gives, with one hash per
/// sample instead of n log n list comparisons (the comparisons were most of the split).
extension SampleSplit {
    /// False when the class index cannot have the room `n` samples may need (its arena could
    /// not be reserved); the split then stops and the push is refused.
    mutating func orderByLabelSet(sampleCount n: Int) -> Bool {
        sampleClass.removeAll()
        classFirstSample.removeAll()
        // Room for the table re-taken at its size and grown to `n` classes at most.
        let room = ColumnArena.blockBytes(classIndex.byteCount) + classIndex.bytesToInsert(n)
        if room > classArena.capacityBytes {
            classArena = ColumnArena(capacityBytes: 2 * room)
            classIndex = SlotIndex(in: classArena)
            if room > classArena.capacityBytes {
                exhausted = "no room for the index of the profile's sample label sets (\(room) bytes)"
                return false
            }
        }
        classArena.reset()
        classIndex.reset()
        // A sample labelled like the one before it (common: samples of one label set are often
        // adjacent) takes its class without hashing.
        for s in 0 ..< n {
            let c = s > 0 && sameLabels(s - 1, s) ? sampleClass[s - 1] : Int32(labelSetClass(ofSample: s))
            sampleClass.append(c)
        }

        // Classes by their label lists; distinct lists never compare equal, so no ties.
        let classes = classFirstSample.count
        classOrder.reset(count: classes)
        classSortBuffer.resize(toAtLeast: classes, fill: 0)
        let sorted = classOrder.mutableElements, firstSample = classFirstSample.elements
        for c in sorted.indices { sorted[c] = Int32(truncatingIfNeeded: c) }
        StableSort.sort(sorted, buffer: classSortBuffer.mutableElements) { a, b in
            compareLabels(Int(firstSample[Int(a)]), Int(firstSample[Int(b)])) < 0
        }

        // Counting placement: a class's run starts after the runs of the classes before it.
        classNext.refill(count: classes, with: 0)
        order.reset(count: n)
        let next = classNext.mutableElements, classOf = sampleClass.elements, placed = order.mutableElements
        for c in classOf { next[Int(c)] += 1 }
        var at: Int32 = 0
        for c in sorted {
            let size = next[Int(c)]
            runStart.append(at)
            next[Int(c)] = at
            at += size
        }
        for s in 0 ..< n {
            let c = Int(classOf[s])
            placed[Int(next[c])] = Int32(s)
            next[c] += 1
        }
        return true
    }

    /// The class of sample `s`'s label list, created when new.
    private mutating func labelSetClass(ofSample s: Int) -> Int {
        let start = Int(labelStart[s]), count = Int(labelCount[s])
        let names = labelKey.elements, values = labelStr.elements
        var h = HashMix.mix(UInt64(count), 0)
        for l in start ..< start + count {
            h = HashMix.mix(h, UInt64(bitPattern: names[l]) << 32 ^ UInt64(bitPattern: values[l]))
        }
        var slot = classIndex.firstSlot(h)
        while true {
            let e = classIndex.entry(at: slot)
            if e < 0 { break }
            if classIndex.mayMatch(h, at: slot), compareLabels(Int(classFirstSample[e]), s) == 0 { return e }
            slot = classIndex.nextSlot(slot)
        }
        classFirstSample.append(Int32(s))
        classIndex.insert(classFirstSample.count - 1, hash: h, at: slot)
        return classFirstSample.count - 1
    }
}
