import BinaryCoding
import CShims

/// The level streams and non-null values of one column chunk.
struct ColumnData {
    var repetitionLevels: [UInt8] = []
    var definitionLevels: [UInt8] = []
    /// INT32 (sign-extended) and INT64 values.
    var ints: [Int64] = []
    /// FIXED_LEN_BYTE_ARRAY(16) values, big-endian.
    var fixed16: [UInt128] = []
    /// BYTE_ARRAY values.
    var byteArrays: [ByteString] = []
}

/// One page of a chunk: where its header and body are in the file.
struct PageLocation {
    var header: PageHeader
    var headerStart: Int
    var bodyStart: Int
    var bodyEnd: Int
}

/// CRC-32/IEEE (zlib) of a page body, as Parquet stores it (§5 "Page CRC").
func pageCRC(_ body: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = body.baseAddress, body.count > 0 else { return 0 }
    return libdeflate_crc32(0, base, body.count)
}

enum ColumnChunkDecoder {
    /// The pages of `chunk`, walked from its first page over `total_compressed_size` bytes;
    /// every page body's CRC is checked when present.
    static func pages(_ file: UnsafeRawBufferPointer, _ chunk: FileMetadata.ColumnChunk, dataEnd: Int,
                      verifyingChecksums: Bool = true) throws(DecodeError) -> [PageLocation] {
        let start = chunk.firstPageOffset
        let size = chunk.totalCompressedSize
        guard start >= 4, size >= 0, start <= Int64(dataEnd), size <= Int64(dataEnd) - start else {
            throw DecodeError(.malformed, at: Int(clamping: start), "column chunk \(start)+\(size) outside the data area")
        }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: file[0 ..< Int(start + size)]), offset: Int(start))
        var pages: [PageLocation] = []
        while !r.isAtEnd {
            let headerStart = r.offset
            var t = ThriftReader(r)
            let header = try PageHeader.decode(&t)
            r.offset = t.offset
            let body = try r.readBytes(Int(header.compressedSize))
            if verifyingChecksums, let crc = header.crc, UInt32(bitPattern: crc) != pageCRC(body) {
                throw DecodeError(.checksum, at: headerStart, "page CRC \(UInt32(bitPattern: crc)) != \(pageCRC(body))")
            }
            pages.append(PageLocation(header: header, headerStart: headerStart, bodyStart: r.offset - body.count, bodyEnd: r.offset))
        }
        return pages
    }

    /// Decodes every page of `chunk` for a leaf with the given level bounds. At most `maxEntries`
    /// level entries are accepted, so forged counts cannot allocate without bound.
    static func decode(_ file: UnsafeRawBufferPointer, _ chunk: FileMetadata.ColumnChunk, leaf: SchemaLeaf,
                       dataEnd: Int, maxEntries: Int, verifyingChecksums: Bool) throws(DecodeError) -> ColumnData {
        guard chunk.codec == 0 else {
            throw DecodeError(.unsupported, at: Int(clamping: chunk.firstPageOffset), "compression codec \(chunk.codec)")
        }
        guard chunk.numValues >= 0, chunk.numValues <= Int64(maxEntries) else {
            throw DecodeError(.limitExceeded, at: Int(clamping: chunk.firstPageOffset), "chunk of \(chunk.numValues) values")
        }
        var data = ColumnData()
        var dictionary = ColumnData()
        var hasDictionary = false
        var scratch: [UInt32] = []
        for page in try pages(file, chunk, dataEnd: dataEnd, verifyingChecksums: verifyingChecksums) {
            let body = UnsafeRawBufferPointer(rebasing: file[page.bodyStart ..< page.bodyEnd])
            do throws(DecodeError) {
                switch PageType(rawValue: page.header.type) {
                case .dictionaryPage:
                    guard !hasDictionary, data.definitionLevels.isEmpty else {
                        throw DecodeError(.malformed, at: 0, "dictionary page after data or twice")
                    }
                    guard page.header.encoding == Encoding.plain.rawValue || page.header.encoding == Encoding.plainDictionary.rawValue else {
                        throw DecodeError(.unsupported, at: 0, "dictionary encoding \(page.header.encoding)")
                    }
                    var r = ByteReader(body)
                    try decodePlain(&r, count: Int(page.header.numValues), leaf: leaf, into: &dictionary)
                    hasDictionary = true
                case .dataPage, .dataPageV2:
                    guard Int64(data.definitionLevels.count) + Int64(page.header.numValues) <= chunk.numValues else {
                        throw DecodeError(.malformed, at: 0, "pages hold more than the chunk's \(chunk.numValues) values")
                    }
                    try decodeDataPage(body, page.header, leaf: leaf, dictionary: hasDictionary ? dictionary : nil,
                                       into: &data, scratch: &scratch)
                default:
                    throw DecodeError(.unsupported, at: 0, "page type \(page.header.type)")
                }
            } catch {
                throw error.inRegion("page", base: page.bodyStart)
            }
        }
        guard Int64(data.definitionLevels.count) == chunk.numValues else {
            throw DecodeError(.malformed, at: Int(clamping: chunk.firstPageOffset),
                              "chunk pages hold \(data.definitionLevels.count) of \(chunk.numValues) values")
        }
        return data
    }

    private static func decodeDataPage(_ body: UnsafeRawBufferPointer, _ h: PageHeader, leaf: SchemaLeaf,
                                       dictionary: ColumnData?, into data: inout ColumnData,
                                       scratch: inout [UInt32]) throws(DecodeError) {
        let count = Int(h.numValues)
        var r = ByteReader(body)
        let firstLevel = data.definitionLevels.count
        if h.type == PageType.dataPageV2.rawValue {
            var rep = try r.subReader(Int(h.repetitionLevelsLength))
            var def = try r.subReader(Int(h.definitionLevelsLength))
            try decodeLevels(&rep, max: leaf.maxRepetitionLevel, count: count, into: &data.repetitionLevels, scratch: &scratch)
            try decodeLevels(&def, max: leaf.maxDefinitionLevel, count: count, into: &data.definitionLevels, scratch: &scratch)
        } else {
            guard leaf.maxRepetitionLevel == 0 || h.repetitionLevelEncoding == Encoding.rle.rawValue,
                  leaf.maxDefinitionLevel == 0 || h.definitionLevelEncoding == Encoding.rle.rawValue else {
                throw DecodeError(.unsupported, at: 0, "v1 level encoding other than RLE")
            }
            var rep = try v1LevelStream(&r, max: leaf.maxRepetitionLevel)
            var def = try v1LevelStream(&r, max: leaf.maxDefinitionLevel)
            try decodeLevels(&rep, max: leaf.maxRepetitionLevel, count: count, into: &data.repetitionLevels, scratch: &scratch)
            try decodeLevels(&def, max: leaf.maxDefinitionLevel, count: count, into: &data.definitionLevels, scratch: &scratch)
        }
        var nonNull = 0
        for i in firstLevel ..< data.definitionLevels.count where data.definitionLevels[i] == leaf.maxDefinitionLevel {
            nonNull += 1
        }
        switch Encoding(rawValue: h.encoding) {
        case .plain:
            try decodePlain(&r, count: nonNull, leaf: leaf, into: &data)
        case .deltaBinaryPacked where leaf.physicalType == PhysicalType.int32.rawValue || leaf.physicalType == PhysicalType.int64.rawValue:
            let before = data.ints.count
            try DeltaBinaryPacked.decode(&r, maxCount: nonNull, into: &data.ints)
            try expectCount(data.ints.count - before, nonNull)
            if leaf.physicalType == PhysicalType.int32.rawValue {
                for i in before ..< data.ints.count { data.ints[i] = Int64(Int32(truncatingIfNeeded: data.ints[i])) }
            }
        case .deltaLengthByteArray where leaf.physicalType == PhysicalType.byteArray.rawValue:
            var lengths: [Int64] = []
            try DeltaBinaryPacked.decode(&r, maxCount: nonNull, into: &lengths)
            try expectCount(lengths.count, nonNull)
            for length in lengths {
                guard length >= 0, length <= Int64(r.remaining) else {
                    throw DecodeError(.malformed, at: r.offset, "byte array length \(length)")
                }
                data.byteArrays.append(ByteString(try r.readBytes(Int(length))))
            }
        case .rleDictionary, .plainDictionary:
            guard let dictionary else { throw DecodeError(.malformed, at: 0, "dictionary-encoded page without a dictionary") }
            let width = Int(try r.readU8())
            guard width <= 32 else { throw DecodeError(.malformed, at: r.offset - 1, "index bit width \(width)") }
            scratch.removeAll(keepingCapacity: true)
            try HybridRLE.decode(&r, bitWidth: width, count: nonNull, into: &scratch)
            let size = max(dictionary.ints.count, dictionary.fixed16.count, dictionary.byteArrays.count)
            for index in scratch {
                guard Int(index) < size else { throw DecodeError(.malformed, at: r.offset, "dictionary index \(index) ≥ \(size)") }
                if leaf.physicalType == PhysicalType.fixedLenByteArray.rawValue { data.fixed16.append(dictionary.fixed16[Int(index)]) }
                else if leaf.physicalType == PhysicalType.byteArray.rawValue { data.byteArrays.append(dictionary.byteArrays[Int(index)]) }
                else { data.ints.append(dictionary.ints[Int(index)]) }
            }
        default:
            throw DecodeError(.unsupported, at: 0, "encoding \(h.encoding) for physical type \(leaf.physicalType)")
        }
    }

    /// DATA_PAGE v1 prefixes each level stream with its byte length; absent when the max level is 0.
    private static func v1LevelStream(_ r: inout ByteReader, max: UInt8) throws(DecodeError) -> ByteReader {
        guard max > 0 else { return ByteReader(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try r.subReader(Int(try r.readLE32()))
    }

    private static func expectCount(_ got: Int, _ want: Int) throws(DecodeError) {
        guard got == want else { throw DecodeError(.malformed, at: 0, "page holds \(got) values, levels say \(want)") }
    }

    private static func decodeLevels(_ r: inout ByteReader, max: UInt8, count: Int, into out: inout [UInt8],
                                     scratch: inout [UInt32]) throws(DecodeError) {
        if max == 0 {
            out.append(contentsOf: repeatElement(0, count: count))
            return
        }
        scratch.removeAll(keepingCapacity: true)
        try HybridRLE.decode(&r, bitWidth: HybridRLE.bitLength(UInt64(max)), count: count, into: &scratch)
        for level in scratch {
            guard level <= UInt32(max) else { throw DecodeError(.malformed, at: r.offset, "level \(level) above \(max)") }
            out.append(UInt8(level))
        }
    }

    private static func decodePlain(_ r: inout ByteReader, count: Int, leaf: SchemaLeaf, into data: inout ColumnData) throws(DecodeError) {
        switch PhysicalType(rawValue: leaf.physicalType) {
        case .int32:
            try r.need(count * 4)
            for _ in 0 ..< count { data.ints.append(Int64(Int32(bitPattern: try r.readLE32()))) }
        case .int64:
            try r.need(count * 8)
            for _ in 0 ..< count { data.ints.append(Int64(bitPattern: try r.readLE64())) }
        case .fixedLenByteArray where leaf.typeLength == 16:
            try r.need(count * 16)
            for _ in 0 ..< count {
                let hi = try r.readBE64(), lo = try r.readBE64()
                data.fixed16.append(UInt128(hi) << 64 | UInt128(lo))
            }
        case .byteArray:
            try r.need(count * 4)
            for _ in 0 ..< count {
                let n = Int(try r.readLE32())
                data.byteArrays.append(ByteString(try r.readBytes(n)))
            }
        default:
            throw DecodeError(.unsupported, at: r.offset, "PLAIN values of physical type \(leaf.physicalType)")
        }
    }
}
