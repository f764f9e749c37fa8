import CShims

/// Why a compressed message could not be used.
public enum DecompressionFailure: Error, Equatable, Sendable {
    case corrupt
    case exceedsLimit(Int)
}

/// `grpc-encoding: gzip` through libdeflate. One compressor and one decompressor per
/// connection, each allocated on first use: a compressor takes about 0.7 MB of address space
/// (level 6) and a server connection never compresses, nor decompresses unless a client sends
/// gzip. libdeflate works on whole buffers, so output space is sized from the gzip trailer's
/// ISIZE and doubled (never beyond the bound) when that was wrong.
public final class GzipCodec {
    private let level: Int32
    private var decompressorIfUsed: OpaquePointer?
    private var compressorIfUsed: OpaquePointer?

    public init(level: Int32 = 6) {
        self.level = level
    }

    deinit {
        if let d = decompressorIfUsed { libdeflate_free_decompressor(d) }
        if let c = compressorIfUsed { libdeflate_free_compressor(c) }
    }

    /// Whether a compressor or a decompressor was allocated.
    var holdsCodecs: (compressor: Bool, decompressor: Bool) { (compressorIfUsed != nil, decompressorIfUsed != nil) }

    private var decompressor: OpaquePointer {
        if let d = decompressorIfUsed { return d }
        guard let d = libdeflate_alloc_decompressor() else { preconditionFailure("libdeflate allocation failed") }
        decompressorIfUsed = d
        return d
    }

    private var compressor: OpaquePointer {
        if let c = compressorIfUsed { return c }
        guard let c = libdeflate_alloc_compressor(level) else { preconditionFailure("libdeflate allocation failed") }
        compressorIfUsed = c
        return c
    }

    /// Decompresses one or more concatenated gzip members, failing once the output would
    /// pass `limit` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionFailure) -> [UInt8] {
        var out: [UInt8] = []
        var inOffset = 0
        repeat {
            let member = UnsafeRawBufferPointer(rebasing: input[inOffset...])
            // 10-byte header + empty deflate block + 8-byte trailer is the smallest member.
            guard member.count >= 18 else { throw .corrupt }
            let produced = out.count
            guard produced < limit else { throw .exceedsLimit(limit) }
            let isize = Int(member[member.count - 4]) | Int(member[member.count - 3]) << 8
                | Int(member[member.count - 2]) << 16 | Int(member[member.count - 1]) << 24
            var capacity = min(max(isize, 4 * member.count, 4096), limit - produced)
            while true {
                var inUsed = 0
                var status = LIBDEFLATE_BAD_DATA
                // Uninitialised output: libdeflate writes it, only what it wrote is kept.
                let part = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
                    var outUsed = 0
                    status = libdeflate_gzip_decompress_ex(decompressor, member.baseAddress, member.count,
                                                           buffer.baseAddress, capacity, &inUsed, &outUsed)
                    count = status == LIBDEFLATE_SUCCESS ? outUsed : 0
                }
                if status == LIBDEFLATE_SUCCESS {
                    if out.isEmpty { out = part } else { out.append(contentsOf: part) }
                    inOffset += inUsed
                    break
                }
                guard status == LIBDEFLATE_INSUFFICIENT_SPACE else { throw .corrupt }
                guard capacity < limit - produced else { throw .exceedsLimit(limit) }
                capacity = min(capacity * 2, limit - produced)
            }
        } while inOffset < input.count
        return out
    }

    /// Appends `input` as one gzip member.
    public func compress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        let member = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            count = libdeflate_gzip_compress(compressor, input.baseAddress, input.count, buffer.baseAddress, bound)
        }
        precondition(!member.isEmpty, "gzip bound too small")
        out.append(contentsOf: member)
    }
}
