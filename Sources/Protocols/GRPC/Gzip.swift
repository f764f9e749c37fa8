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
/// ISIZE and doubled (never beyond the bound) when that was wrong; every member of a message
/// is inflated into that one buffer.
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

    /// Decompresses one or more concatenated gzip members into one buffer, failing once the
    /// output would pass `limit` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionFailure) -> [UInt8] {
        var out: [UInt8] = []
        var inOffset = 0
        var capacity = min(Self.outputBytesGuess(input), limit)
        while true {
            let previous = out
            var finished: Result<Bool, DecompressionFailure> = .success(false)
            // Uninitialised output: libdeflate writes it, only what it wrote is kept.
            out = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                _ = buffer.initialize(from: previous)
                count = previous.count
                let room = UnsafeMutableBufferPointer(rebasing: buffer[..<capacity])
                finished = Result { () throws(DecompressionFailure) in
                    try inflateMembers(input, from: &inOffset, into: room, count: &count, limit: limit)
                }
            }
            if try finished.get() { return out }
            guard capacity < limit else { throw .exceedsLimit(limit) }
            capacity = BufferGrowth.capacity(current: capacity, needed: capacity + 1, limit: limit)
        }
    }

    /// Inflates members from `input[offset...]` into `buffer[count...]`, advancing both: true
    /// once the input is used up, false when a member does not fit what is left of `buffer`.
    private func inflateMembers(_ input: UnsafeRawBufferPointer, from offset: inout Int, into buffer: UnsafeMutableBufferPointer<UInt8>,
                                count: inout Int, limit: Int) throws(DecompressionFailure) -> Bool {
        repeat {
            let member = UnsafeRawBufferPointer(rebasing: input[offset...])
            // 10-byte header + empty deflate block + 8-byte trailer is the smallest member.
            guard member.count >= 18 else { throw .corrupt }
            guard count < limit else { throw .exceedsLimit(limit) }
            var inUsed = 0
            var outUsed = 0
            let status = libdeflate_gzip_decompress_ex(decompressor, member.baseAddress, member.count,
                                                       buffer.baseAddress.map { $0 + count }, buffer.count - count, &inUsed, &outUsed)
            if status == LIBDEFLATE_INSUFFICIENT_SPACE { return false }
            guard status == LIBDEFLATE_SUCCESS else { throw .corrupt }
            count += outUsed
            offset += inUsed
        } while offset < input.count
        return true
    }

    /// The output space to start with: the last member's ISIZE (the whole output when there is
    /// one member, as gzip writers make it), but no more than deflate can expand the input to,
    /// so a forged ISIZE cannot make a small message reserve the limit.
    static func outputBytesGuess(_ input: UnsafeRawBufferPointer) -> Int {
        let n = input.count
        let isize = n < 4 ? 0 : Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        return min(max(isize, 4 * n, 4096), deflateExpansionMax * n)
    }

    /// Deflate's best case is a 258-byte match in 2 bits: 1032 output bytes per input byte.
    static let deflateExpansionMax = 1032

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
