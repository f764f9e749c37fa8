import BinaryCoding
import Testing
@testable import GRPC

/// A message decompresses into one buffer that doubles as it fills, however many snappy chunks
/// it has: growing to each chunk's end copied all output so far per chunk.
@Suite struct DecompressionGrowthTests {
    /// A snappy block of `count` zero bytes: a one-byte literal, then copies of 64 at offset 1.
    static func zeroBlock(_ count: Int) -> [UInt8] {
        var block = ByteWriter()
        block.appendUvarint(UInt64(count))
        block.append(contentsOf: [0x00, 0x00])
        var left = count - 1
        while left > 0 {
            let length = min(left, 64)
            block.append(contentsOf: [UInt8((length - 1) << 2 | 2), 1, 0])
            left -= length
        }
        return block.bytes
    }

    @Test func snappyChunksGrowTheOutputByDoubling() throws {
        let raw = RawBytes(Self.zeroBlock(4_096))
        defer { withExtendedLifetime(raw) {} }
        var out: [UInt8] = []
        var growths = 0
        for _ in 0 ..< 256 {
            let capacityBefore = out.capacity
            try SnappyBlock.decompress(raw.view, into: &out, lengthMax: SnappyFramed.chunkBytesMax, limit: 1 << 20)
            if out.capacity != capacityBefore { growths += 1 }
        }
        #expect(out == [UInt8](repeating: 0, count: 1 << 20))
        #expect(growths <= 10, "\(growths) growths for 256 chunks: log2(256) + 1 when doubling")
    }

    @Test func aFramedStreamOfManyChunksDecodesWithinItsLimit() throws {
        let chunk = (uncompressed: [UInt8](repeating: 0, count: 4_096), block: Optional(Self.zeroBlock(4_096)))
        let raw = RawBytes(SnappyTests.framed(Array(repeating: chunk, count: 256)))
        defer { withExtendedLifetime(raw) {} }
        #expect(try SnappyFramed.decompress(raw.view, limit: 1 << 20) == [UInt8](repeating: 0, count: 1 << 20))
        #expect(throws: DecompressionFailure.exceedsLimit((1 << 20) - 1)) {
            try SnappyFramed.decompress(raw.view, limit: (1 << 20) - 1)
        }
    }
}
