import BinaryCoding

/// The parent-pointer stack-trace tree, encoding 1 (symdb.md §6.2): two nodes per group-varint
/// group, `[zz(p[i] − p[i−1]), r[i], zz(p[i+1] − p[i]), r[i+1]]`, with `p[−1] = 0` per chunk.
enum StackTreeCodec {
    @inline(__always)
    static func zigzag(_ v: Int32) -> UInt32 {
        UInt32(bitPattern: (v << 1) ^ (v >> 31))
    }

    @inline(__always)
    static func unzigzag(_ u: UInt32) -> Int32 {
        Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// Encodes nodes `[start, end)` of the columns as one chunk, written through a pointer into
    /// room for the largest groups and then trimmed (one append for the chunk, not one per byte).
    static func encode(parents: [UInt32], locations: [UInt32], range: Range<Int>, into w: inout ByteWriter) {
        let start = w.count
        let room = (range.count + 1) / 2 * GroupVarint.maxGroupBytes
        w.appendZeros(room)
        let written = w.bytes.withUnsafeMutableBufferPointer { out in
            let first = out.baseAddress! + start
            var next = first
            var previous: Int32 = 0
            var i = range.lowerBound
            while i < range.upperBound {
                let p0 = Int32(bitPattern: parents[i])
                let d0 = zigzag(p0 &- previous)
                previous = p0
                if i + 1 < range.upperBound {
                    let p1 = Int32(bitPattern: parents[i + 1])
                    let d1 = zigzag(p1 &- previous)
                    previous = p1
                    GroupVarint.write(d0, locations[i], d1, locations[i + 1], to: &next)
                } else {
                    // An odd node count pads the last group with (0, 0).
                    GroupVarint.write(d0, locations[i], 0, 0, to: &next)
                }
                i += 2
            }
            return first.distance(to: next)
        }
        w.bytes.removeLast(room - written)
    }

    /// Decodes a chunk of exactly `nodeCount` nodes filling `bytes`, appending to the columns.
    /// Validates the tree shape: the root is (−1, 0) and every other node's parent precedes it.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, nodeCount: Int, locationCount: Int,
        parents: inout [UInt32], locations: inout [UInt32]
    ) throws(DecodeError) {
        var r = ByteReader(bytes)
        // A group (2 nodes) takes at least 5 bytes: bound the reservation by the bytes present.
        guard nodeCount >= 1, (nodeCount + 1) / 2 <= bytes.count / 5 else {
            throw DecodeError(.malformed, at: 0, "\(nodeCount) nodes cannot fit \(bytes.count) bytes")
        }
        // Room for a first chunk up front; later chunks append (growth doubles): reserving each
        // chunk's exact room would copy every earlier node once per chunk.
        if parents.isEmpty { parents.reserveCapacity(nodeCount) }
        if locations.isEmpty { locations.reserveCapacity(nodeCount) }
        var previous: Int32 = 0
        var node = 0
        while node < nodeCount {
            let groupAt = r.offset
            let (d0, r0, d1, r1) = try GroupVarint.read(&r)
            previous = previous &+ unzigzag(d0)
            try append(node, parent: previous, location: r0, locationCount: locationCount, at: groupAt,
                       parents: &parents, locations: &locations)
            node += 1
            if node < nodeCount {
                previous = previous &+ unzigzag(d1)
                try append(node, parent: previous, location: r1, locationCount: locationCount, at: groupAt,
                           parents: &parents, locations: &locations)
                node += 1
            } else if d1 != 0 || r1 != 0 {
                throw DecodeError(.malformed, at: groupAt, "padding node is (\(d1), \(r1)), not (0, 0)")
            }
        }
        guard r.isAtEnd else {
            throw DecodeError(.malformed, at: r.offset, "\(r.remaining) bytes after \(nodeCount) nodes")
        }
    }

    private static func append(
        _ node: Int, parent: Int32, location: UInt32, locationCount: Int, at offset: Int,
        parents: inout [UInt32], locations: inout [UInt32]
    ) throws(DecodeError) {
        if node == 0 {
            guard parent == -1, location == 0 else {
                throw DecodeError(.malformed, at: offset, "root node is (\(parent), \(location)), not (-1, 0)")
            }
        } else {
            guard parent >= 0, Int(parent) < node else {
                throw DecodeError(.malformed, at: offset, "node \(node) has parent \(parent)")
            }
            guard Int(location) < locationCount else {
                throw DecodeError(.malformed, at: offset, "node \(node) references location \(location) of \(locationCount)")
            }
        }
        parents.append(UInt32(bitPattern: parent))
        locations.append(location)
    }
}
