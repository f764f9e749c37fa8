import CShims

/// gzip via libdeflate (level 6, as Go's default).
enum Gzip {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        guard let compressor = libdeflate_alloc_compressor(6) else { fatalError("libdeflate: out of memory") }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                libdeflate_gzip_compress(compressor, src.baseAddress, src.count, dst.baseAddress, dst.count)
            }
        }
        precondition(n > 0, "libdeflate: output bound too small")
        out.removeLast(out.count - n)
        return out
    }
}
