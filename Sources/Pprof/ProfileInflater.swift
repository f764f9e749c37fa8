import CShims

/// Turns the `profile` bytes of a Push into pprof protobuf bytes (ingest-and-ops.md §2.1):
/// gzip (one or more members) is inflated whole with libdeflate into a buffer kept between
/// calls; anything else of at least 10 bytes is taken as raw protobuf, without a copy.
/// One per core: not thread-safe, and the returned view is valid until the next call.
public final class ProfileInflater {
    /// Decompressed size limit in bytes (0 = unlimited, Pyroscope's writer default). Our default
    /// is the distributor's `max_profile_size_bytes` (4 MiB), which every forwarded profile meets.
    public var maxDecompressedBytes: Int
    /// Decompressed/compressed bound against decompression bombs (0 = unlimited). Real pprof
    /// gzips stay far below it (the shared corpus peaks near 6:1).
    public var maxCompressionRatio: Int

    public static let defaultMaxDecompressedBytes = 4 << 20
    public static let defaultMaxCompressionRatio = 256
    static let deflateMaxRatio = 1032

    /// Whether the last successful call inflated gzip (false: raw pass-through).
    public private(set) var lastInputWasGzip = false

    private let decompressor: OpaquePointer
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0

    public init(maxDecompressedBytes: Int = defaultMaxDecompressedBytes,
                maxCompressionRatio: Int = defaultMaxCompressionRatio) {
        precondition(maxDecompressedBytes >= 0 && maxCompressionRatio >= 0)
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxCompressionRatio = maxCompressionRatio
        guard let d = libdeflate_alloc_decompressor() else { fatalError("libdeflate: out of memory") }
        decompressor = d
    }

    deinit {
        libdeflate_free_decompressor(decompressor)
        buffer?.deallocate()
    }

    /// The pprof bytes of `input`: `input` itself when raw, else a view of the inflated buffer.
    public func inflate(_ input: UnsafeRawBufferPointer) throws(PushError) -> UnsafeRawBufferPointer {
        // Go's gzip.Reader reads a 10-byte header first: 0 bytes is EOF, 1–9 unexpected EOF.
        if input.count == 0 { throw PushError(.gzipHeader, "gzip reset: EOF") }
        if input.count < 10 { throw PushError(.gzipHeader, "gzip reset: unexpected EOF") }
        guard GzipHeader.hasMagic(input, at: 0) else {
            if maxDecompressedBytes > 0, input.count > maxDecompressedBytes { throw sizeExceeded() }
            lastInputWasGzip = false
            return input
        }
        try GzipHeader.check(input, at: 0, context: "gzip reset")
        let count = try inflateMembers(input)
        lastInputWasGzip = true
        return UnsafeRawBufferPointer(start: buffer, count: count)
    }

    /// Bytes the output may reach before one of the two bounds is crossed.
    private func outputLimit(inputCount: Int) -> (bytes: Int, bySize: Bool) {
        let bySize = maxDecompressedBytes > 0 ? maxDecompressedBytes : Int.max
        // Deflate cannot expand beyond ~1032:1, so even with both bounds off a lying stream
        // cannot make us reserve more than that.
        let ratio = maxCompressionRatio > 0 ? min(maxCompressionRatio, Self.deflateMaxRatio) : Self.deflateMaxRatio
        let byRatio = inputCount.multipliedReportingOverflow(by: ratio).overflow ? Int.max : inputCount * ratio
        return bySize <= byRatio ? (bySize, true) : (byRatio, false)
    }

    private func inflateMembers(_ input: UnsafeRawBufferPointer) throws(PushError) -> Int {
        let limit = outputLimit(inputCount: input.count)
        // ISIZE of the last member: exact for a single member, a fair first guess otherwise.
        let hint = Int(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: input.count - 4, as: UInt32.self)))
        try reserve(min(limit.bytes, max(hint, 64 << 10)), preserving: 0)
        var consumed = 0
        var produced = 0
        while consumed < input.count {
            let rest = input.count - consumed
            // §2.1: further members are read like the first (multi-member streams are valid).
            if consumed > 0 {
                guard rest >= 10 else { throw PushError(.gzipCorrupt, "copy to buffer: unexpected EOF") }
                guard GzipHeader.hasMagic(input, at: consumed) else {
                    throw PushError(.gzipCorrupt, "copy to buffer: gzip: invalid header")
                }
                try GzipHeader.check(input, at: consumed, context: "copy to buffer")
            }
            var inUsed = 0
            var outUsed = 0
            while true {
                let result = libdeflate_gzip_decompress_ex(
                    decompressor, input.baseAddress! + consumed, rest,
                    buffer! + produced, capacity - produced, &inUsed, &outUsed)
                if result == LIBDEFLATE_SUCCESS { break }
                guard result == LIBDEFLATE_INSUFFICIENT_SPACE else {
                    throw PushError(.gzipCorrupt, "copy to buffer: gzip: invalid compressed data")
                }
                guard capacity < limit.bytes else {
                    throw limit.bySize ? sizeExceeded() : ratioExceeded(input.count)
                }
                let doubled = capacity > limit.bytes / 2 ? limit.bytes : capacity * 2
                try reserve(doubled, preserving: produced)
            }
            consumed += inUsed
            produced += outUsed
        }
        return produced
    }

    /// Grows the kept buffer to `bytes`, copying the first `preserving` bytes.
    private func reserve(_ bytes: Int, preserving: Int) throws(PushError) {
        guard bytes > capacity else { return }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        if let old = buffer {
            grown.copyMemory(from: old, byteCount: preserving)
            old.deallocate()
        }
        buffer = grown
        capacity = bytes
    }

    private func sizeExceeded() -> PushError {
        PushError(.decompressedSizeExceeded,
                  "decompressed size exceeds maximum allowed size of \(maxDecompressedBytes) bytes")
    }

    private func ratioExceeded(_ inputCount: Int) -> PushError {
        PushError(.compressionRatioExceeded,
                  "decompressed size exceeds \(maxCompressionRatio) times the compressed size of \(inputCount) bytes")
    }
}

/// RFC 1952 member header, read only to tell header errors (`gzip reset: …`) from stream
/// errors the way Go's reader reports them; libdeflate parses it again.
enum GzipHeader {
    static func hasMagic(_ b: UnsafeRawBufferPointer, at i: Int) -> Bool {
        b[i] == 0x1F && b[i + 1] == 0x8B && b[i + 2] == 0x08
    }

    /// Walks the optional header fields; `at + 10 <= b.count` is the caller's to ensure.
    /// The error is built only when thrown: a valid header costs no allocation.
    static func check(_ b: UnsafeRawBufferPointer, at start: Int, context: StaticString) throws(PushError) {
        do {
            try walk(b, at: start)
        } catch {
            throw PushError(.gzipHeader, "\(context): unexpected EOF")
        }
    }

    private struct Truncated: Error {}

    private static func walk(_ b: UnsafeRawBufferPointer, at start: Int) throws(Truncated) {
        let truncated = Truncated()
        let flags = b[start + 3]
        var i = start + 10
        if flags & 0x04 != 0 { // FEXTRA: 2-byte length, then data
            guard b.count - i >= 2 else { throw truncated }
            let n = Int(b[i]) | Int(b[i + 1]) << 8
            guard b.count - i - 2 >= n else { throw truncated }
            i += 2 + n
        }
        if flags & 0x08 != 0 { try skipZeroTerminated(b, &i, truncated) } // FNAME
        if flags & 0x10 != 0 { try skipZeroTerminated(b, &i, truncated) } // FCOMMENT
        if flags & 0x02 != 0, b.count - i < 2 { throw truncated } // FHCRC
    }

    private static func skipZeroTerminated(_ b: UnsafeRawBufferPointer, _ i: inout Int, _ truncated: Truncated) throws(Truncated) {
        while true {
            guard i < b.count else { throw truncated }
            i += 1
            if b[i - 1] == 0 { return }
        }
    }
}
