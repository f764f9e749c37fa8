import BinaryCoding

// Upstream's `RepairGoTruncatedStacktraces` (pkg/pprof/fix_go_truncated.go), the second half of
// `FixGoProfile`. The Go runtime keeps at most 32 frames of a heap profile's stack and 64 of a
// CPU profile's, from the leaf: a deep stack loses its root-most frames, and the same code path
// then shows up as many short stacks. The guess: stacks that end in the same 24 root-most
// locations form a group; where 16 locations in a row at the root end of one group appear
// further from the root in another group, the first group's stacks were cut there, and the
// locations the other group has beyond them are appended (transitively, through chains of
// groups). pprof stacks are leaf first, so "the root end" is the end of `locationIDs`.

extension PprofProfile {
    /// Stacks shorter than this are neither repaired nor copied from.
    private static let suffixLength = 24
    private static let tokenLength = 16
    /// Tokens per suffix: windows of `tokenLength` shifted by one location, the root-most not
    /// taken (no stack can be more complete than one ending there).
    private static let tokenCount = 8
    /// Chains of groups longer than this stop the repair (deeply recursive stacks).
    private static let chainDepthMax = 56

    /// Upstream's `PotentialTruncatedGoStacktraces`: a Go heap profile with a stack of at least
    /// 28 frames and none of 33 or more (Go 1.23 keeps 128: nothing is cut there), or a Go CPU
    /// profile with a stack of at least 60 frames.
    var mayHaveTruncatedGoStacks: Bool {
        let types = Set(sampleTypes.map { Int($0.type) }.filter { stringTable.indices.contains($0) }.map { stringTable[$0] })
        let depths: (minimum: Int, maximum: Int?)
        if !types.isDisjoint(with: ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"] as Set<ByteString>) {
            depths = (32 - 4, 33)
        } else if types.contains("cpu") {
            depths = (64 - 4, nil)
        } else {
            return false
        }
        var deepEnough = false
        for s in samples {
            if s.locationIDs.count >= depths.minimum { deepEnough = true }
            if let maximum = depths.maximum, s.locationIDs.count >= maximum { return false }
        }
        return deepEnough
    }

    /// Appends to each truncated stack the root-most locations its group's more complete
    /// neighbours have (see above). Samples end up ordered as upstream's leaves them: those
    /// shorter than `suffixLength` first, then by their suffix's bytes.
    mutating func repairTruncatedGoStacks() {
        orderBySuffix()
        guard let first = samples.firstIndex(where: { $0.locationIDs.count >= Self.suffixLength }) else { return }
        // Each group: the index of its first sample, in `samples`.
        var groups: [Int] = []
        for i in first ..< samples.count where i == first || suffix(i) != suffix(i - 1) { groups.append(i) }
        // Where group `g` ends, counted from `first`, as upstream counts it: for the last group
        // it takes the group count for the sample count, so the last group takes no part in
        // the token map and is never repaired (unless it starts that early).
        func end(_ g: Int) -> Int { first + (g + 1 < groups.count ? groups[g + 1] - first : groups.count) }

        // Each token → the group holding it furthest from the root (the first such group).
        var furthest: [ArraySlice<UInt64>: GroupLink] = [:]
        for (g, start) in groups.enumerated() where end(g) > start {
            let s = suffix(start)
            for j in 1 ... Self.tokenCount {
                let hi = s.startIndex + Self.suffixLength - j, token = s[(hi - Self.tokenLength) ..< hi]
                if let link = furthest[token], j <= link.offset { continue }
                furthest[token] = GroupLink(group: g + 1, offset: j)
            }
        }
        // Each group's link: the group its root-most token is furthest from the root in.
        var links = [GroupLink](repeating: GroupLink(group: 0, offset: 0), count: groups.count)
        for (g, start) in groups.enumerated() {
            let ids = samples[start].locationIDs
            guard let link = furthest[ids[(ids.count - Self.tokenLength)...]], link.group - 1 != g else { continue }
            links[g] = link
        }
        for g in groups.indices {
            var link = links[g]
            var missing = 0
            var steps = 0
            while link.group > 0 && link.offset > 0 {
                missing += link.offset
                let next = links[link.group - 1]
                if next.group == 0 { break }
                link = next
                steps += 1
                // Upstream gives up on the remaining groups here.
                if steps == Self.chainDepthMax { return }
            }
            guard missing > 0 else { continue }
            let reference = samples[groups[link.group - 1]].locationIDs
            guard missing < reference.count else { continue }
            let appended = reference[(reference.count - missing)...]
            for i in groups[g] ..< max(groups[g], end(g)) { samples[i].locationIDs += appended }
        }
    }

    /// A group reference: `group` is the group's index + 1 (0 for none), `offset` how many
    /// locations further from the root than its own root-most token the token was found.
    private struct GroupLink {
        var group: Int
        var offset: Int
    }

    /// The `suffixLength` root-most locations of sample `i`'s stack.
    private func suffix(_ i: Int) -> ArraySlice<UInt64> {
        let ids = samples[i].locationIDs
        return ids[(ids.count - Self.suffixLength)...]
    }

    /// Short stacks first; the others by their suffix compared as upstream does: the ids'
    /// little-endian bytes, in order (stable, where upstream's sort is not).
    private mutating func orderBySuffix() {
        let keyed = samples.enumerated().map { (offset, sample) -> (key: [UInt8]?, offset: Int, sample: Sample) in
            guard sample.locationIDs.count >= Self.suffixLength else { return (nil, offset, sample) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Self.suffixLength * 8)
            for id in sample.locationIDs.suffix(Self.suffixLength) { withUnsafeBytes(of: id.littleEndian) { bytes += $0 } }
            return (bytes, offset, sample)
        }
        samples = keyed.sorted { a, b in
            switch (a.key, b.key) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return true
            case (_, nil): return false
            case let (x?, y?): return x.lexicographicallyPrecedes(y) || (x == y && a.offset < b.offset)
            }
        }.map(\.sample)
    }
}
