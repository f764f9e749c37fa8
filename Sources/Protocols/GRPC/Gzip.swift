import CShims

/// Why a compressed message could not be used.
public enum DecompressionFailure: Error, Equatable, Sendable {
    case corrupt
    case exceedsLimit(Int)
}

/// `grpc-encoding: gzip` through libdeflate. One compressor and one decompressor per
/// connection, allocated once. libdeflate works on whole buffers, so output space is sized
/// from the gzip trailer's ISIZE and doubled (never beyond the bound) when that was wrong.
public final class GzipCodec {
    private let decompressor: OpaquePointer
    private let compressor: OpaquePointer

    public init(level: Int32 = 6) {
        guard let d = libdeflate_alloc_decompressor(), let c = libdeflate_alloc_compressor(level) else {
            preconditionFailure("libdeflate allocation failed")
        }
        decompressor = d
        compressor = c
    }

    deinit {
        libdeflate_free_decompressor(decompressor)
        libdeflate_free_compressor(compressor)
    }

    /// Decompresses one or more concatenated gzip members, failing once the output would
    /// pass `limit` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionFailure) -> [UInt8] {
        guard input.count >= 18 else { throw .corrupt }  // 10-byte header + empty deflate + 8-byte trailer
        var out: [UInt8] = []
        var inOffset = 0
        while inOffset < input.count {
            let member = UnsafeRawBufferPointer(rebasing: input[inOffset...])
            let produced = out.count
            let isize = Int(member[member.count - 4]) | Int(member[member.count - 3]) << 8
                | Int(member[member.count - 2]) << 16 | Int(member[member.count - 1]) << 24
            var capacity = min(max(isize, 4 * member.count, 4096), limit - produced)
            while true {
                var inUsed = 0
                var outUsed = 0
                let status = decompressMember(member, into: &out, at: produced, capacity: capacity, inUsed: &inUsed, outUsed: &outUsed)
                if status == LIBDEFLATE_SUCCESS {
                    out.removeLast(out.count - produced - outUsed)
                    inOffset += inUsed
                    break
                }
                out.removeLast(out.count - produced)
                guard status == LIBDEFLATE_INSUFFICIENT_SPACE else { throw .corrupt }
                guard capacity < limit - produced else { throw .exceedsLimit(limit) }
                capacity = min(capacity * 2, limit - produced)
            }
        }
        return out
    }

    private func decompressMember(_ member: UnsafeRawBufferPointer, into out: inout [UInt8], at produced: Int, capacity: Int,
                                  inUsed: inout Int, outUsed: inout Int) -> libdeflate_result {
        out.append(contentsOf: repeatElement(0, count: capacity))
        return out.withUnsafeMutableBytes { dst in
            libdeflate_gzip_decompress_ex(decompressor, member.baseAddress, member.count,
                                          dst.baseAddress! + produced, capacity, &inUsed, &outUsed)
        }
    }

    /// Appends `input` as one gzip member.
    public func compress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let start = out.count
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { dst in
            libdeflate_gzip_compress(compressor, input.baseAddress, input.count, dst.baseAddress! + start, bound)
        }
        precondition(written > 0, "gzip bound too small")
        out.removeLast(bound - written)
    }
}
