import BinaryCoding
import Testing
@testable import GRPC
#if canImport(Glibc)
import Glibc
#endif

/// A message decompresses into one buffer that doubles as it fills, however many snappy chunks
/// or gzip members it has: growing to each chunk's end copied all output so far per chunk, and
/// each gzip member had a buffer of its own, sized from the message's last four bytes.
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

    /// 2 000 empty gzip members, then "hello" whose ISIZE says 5 or, forged, 2^32 - 1. The
    /// members share one buffer, sized once and at most what deflate could expand the message
    /// to: before, each member got a buffer of up to the limit (100 MiB), freshly mapped.
    @Test(arguments: [false, true])
    func emptyGzipMembersShareOneBuffer(forgedISIZE: Bool) throws {
        let codec = GzipCodec()
        var message: [UInt8] = []
        for _ in 0 ..< 2_000 { codec.compress(UnsafeRawBufferPointer(start: nil, count: 0), into: &message) }
        Array("hello".utf8).withUnsafeBytes { codec.compress($0, into: &message) }
        if forgedISIZE { message.replaceSubrange((message.count - 4)..., with: [0xff, 0xff, 0xff, 0xff]) }
        let raw = RawBytes(message)
        defer { withExtendedLifetime(raw) {} }
        _ = try? codec.decompress(raw.view, limit: 4_096)  // the decompressor's own allocation, once
        let faultsBefore = minorPageFaults()
        let result = Result { () throws(DecompressionFailure) in try codec.decompress(raw.view, limit: 100 << 20) }
        let faults = minorPageFaults() - faultsBefore
        if forgedISIZE {
            #expect(throws: DecompressionFailure.corrupt) { try result.get() }
        } else {
            #expect(try result.get() == Array("hello".utf8))
        }
        #expect(faults < 200, "\(faults) pages touched afresh for 2 001 members")
    }

    @Test func gzipOutputSpaceStartsFromISIZEBoundedByDeflatesExpansion() {
        func guess(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBytes { GzipCodec.outputBytesGuess($0) } }
        let honest = [UInt8](repeating: 0, count: 996) + [0x40, 0x42, 0x0f, 0x00]  // ISIZE 1 000 000
        #expect(guess(honest) == 1_000_000)
        let forged = [UInt8](repeating: 0, count: 16) + [0xff, 0xff, 0xff, 0xff]
        #expect(guess(forged) == 20 * GzipCodec.deflateExpansionMax)
    }
}

/// Pages the calling thread touched for the first time (minor faults) so far: a freshly mapped
/// buffer costs at least one, however little is written to it.
private func minorPageFaults() -> Int {
    var usage = rusage()
    getrusage(1, &usage)  // RUSAGE_THREAD, a GNU name Glibc's Swift module leaves out
    return usage.ru_minflt
}
