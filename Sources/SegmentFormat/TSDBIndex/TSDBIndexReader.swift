import BinaryCoding

/// Reader and verifier of `index.tsdb` (tsdb-index.md §3). Total over arbitrary bytes: every
/// length is checked against what remains, every CRC is verified, padding must be zero, and
/// sections must tile the file exactly as Pyroscope's writer lays them out.
public enum TSDBIndexReader {
    /// Decodes the series and time bounds of an index occupying all of `bytes`, then checks that
    /// every derived part (symbols, label indices, postings, tables, fingerprint offsets, TOC
    /// bounds) is exactly what `TSDBIndexWriter` writes for those series, so a decoded index
    /// re-encodes to the same bytes. Error offsets are relative to the index start.
    public static func read(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> TSDBIndexContents {
        do {
            return try decode(bytes)
        } catch {
            throw error.inRegion("index.tsdb")
        }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> TSDBIndexContents {
        guard bytes.count >= TSDBIndexLayout.minimumSize else {
            throw DecodeError(.truncated, at: 0, "\(bytes.count) bytes, an index has at least \(TSDBIndexLayout.minimumSize)")
        }
        var header = ByteReader(bytes)
        let magic = try header.readBE32()
        guard magic == TSDBIndexLayout.magic else {
            throw DecodeError(.malformed, at: 0, "magic 0x\(String(magic, radix: 16)), expected 0xbaaad700")
        }
        let version = try header.readU8()
        guard version == TSDBIndexLayout.version else {
            throw DecodeError(.unsupported, at: 4, "index version \(version), only 2 is supported")
        }
        let toc = try readTOC(bytes)

        let symbols = try readSymbols(region(bytes, toc.symbols, toc.series))
        let series = try readSeries(region(bytes, toc.series, toc.labelIndices), symbols)
        try checkFramedLists(region(bytes, toc.labelIndices, toc.postings), what: "label index", startsWithNameCount: true)
        try checkFramedLists(region(bytes, toc.postings, toc.labelIndicesTable), what: "postings list", startsWithNameCount: false)
        try checkTable(region(bytes, toc.labelIndicesTable, toc.postingsTable), what: "label indices table", keyCount: 1)
        try checkTable(region(bytes, toc.postingsTable, toc.fingerprintOffsets), what: "postings offset table", keyCount: 2)
        try checkFingerprintOffsets(region(bytes, toc.fingerprintOffsets, bytes.count - TSDBIndexLayout.tocSize))

        let contents = TSDBIndexContents(series: series, from: toc.from, through: toc.through)
        try checkDerivedParts(bytes, contents, toc)
        return contents
    }

    /// A reader over `bytes[0 ..< end]` positioned at `start`: offsets stay index-relative and
    /// no read can pass the section's end.
    private static func region(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> ByteReader {
        ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0 ..< end]), offset: start)
    }

    // §3.8: offsets must name sections in physical order inside the file.
    private static func readTOC(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> TSDBTOC {
        let tocStart = bytes.count - TSDBIndexLayout.tocSize
        var r = ByteReader(bytes, offset: tocStart + 72)
        let stored = try r.readBE32()
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[tocStart ..< tocStart + 72]))
        guard stored == actual else {
            throw DecodeError(.checksum, at: tocStart + 72, "TOC CRC 0x\(String(stored, radix: 16)), computed 0x\(String(actual, radix: 16))")
        }
        r.offset = tocStart
        var offsets: [Int] = []
        for _ in 0 ..< 7 {
            let at = r.offset
            let v = try r.readBE64()
            guard v <= UInt64(tocStart) else {
                throw DecodeError(.malformed, at: at, "TOC offset \(v) past the TOC at \(tocStart)")
            }
            offsets.append(Int(v))
        }
        var toc = TSDBTOC(
            symbols: offsets[0], series: offsets[1], labelIndices: offsets[2], labelIndicesTable: offsets[3],
            postings: offsets[4], postingsTable: offsets[5], fingerprintOffsets: offsets[6])
        toc.from = Int64(bitPattern: try r.readBE64())
        toc.through = Int64(bitPattern: try r.readBE64())
        guard toc.symbols == TSDBIndexLayout.headerSize else {
            throw DecodeError(.malformed, at: tocStart, "symbol table at \(toc.symbols), expected 5")
        }
        let physicalOrder = [toc.symbols, toc.series, toc.labelIndices, toc.postings,
                             toc.labelIndicesTable, toc.postingsTable, toc.fingerprintOffsets, tocStart]
        for i in 1 ..< physicalOrder.count where physicalOrder[i] < physicalOrder[i - 1] {
            throw DecodeError(.malformed, at: tocStart, "TOC sections out of order: \(physicalOrder)")
        }
        return toc
    }

    /// `framed(C)` (§2): returns a reader over exactly `C` (index-relative offsets) after
    /// checking that the length fits the section and the CRC matches.
    private static func readFramed(_ r: inout ByteReader, _ what: String) throws(DecodeError) -> ByteReader {
        let lengthAt = r.offset
        let length = Int(try r.readBE32())
        guard length <= r.remaining - 4 else {
            throw DecodeError(.truncated, at: lengthAt, "\(what): length \(length) runs past its section (\(r.remaining) bytes left)")
        }
        let contentStart = r.offset
        let content = try r.readBytes(length)
        let stored = try r.readBE32()
        let actual = CRC32C.checksum(content)
        guard stored == actual else {
            throw DecodeError(.checksum, at: r.offset - 4, "\(what): CRC 0x\(String(stored, radix: 16)), computed 0x\(String(actual, radix: 16))")
        }
        return ByteReader(UnsafeRawBufferPointer(rebasing: r.bytes[0 ..< contentStart + length]), offset: contentStart)
    }

    private static func expectEnd(_ r: ByteReader, _ what: String) throws(DecodeError) {
        guard r.isAtEnd else {
            throw DecodeError(.malformed, at: r.offset, "\(what): \(r.remaining) trailing bytes")
        }
    }

    /// Zero bytes up to the next multiple of `alignment` (index-relative).
    private static func consumePadding(_ r: inout ByteReader, _ alignment: Int) throws(DecodeError) {
        while r.offset % alignment != 0 {
            let at = r.offset
            guard try r.readU8() == 0 else { throw DecodeError(.malformed, at: at, "non-zero padding byte") }
        }
    }

    // §3.1
    private static func readSymbols(_ section: ByteReader) throws(DecodeError) -> [ByteString] {
        var section = section
        var r = try readFramed(&section, "symbol table")
        try expectEnd(section, "symbol table section")
        let countAt = r.offset
        let count = Int(try r.readBE32())
        guard count <= r.remaining else {  // every symbol takes at least its length byte
            throw DecodeError(.limitExceeded, at: countAt, "\(count) symbols in \(r.remaining) bytes")
        }
        var symbols: [ByteString] = []
        symbols.reserveCapacity(count)
        for i in 0 ..< count {
            let at = r.offset
            let symbol = ByteString(try r.readUvarintBytes())
            if let last = symbols.last, !bytewiseLess(last, symbol) {
                throw DecodeError(.malformed, at: at, "symbol #\(i) not strictly after #\(i - 1) in byte order")
            }
            symbols.append(symbol)
        }
        try expectEnd(r, "symbol table")
        return symbols
    }

    // §3.2
    private static func readSeries(_ section: ByteReader, _ symbols: [ByteString]) throws(DecodeError) -> [IndexSeries] {
        var r = section
        var series: [IndexSeries] = []
        while !r.isAtEnd {
            try consumePadding(&r, TSDBIndexLayout.seriesAlignment)
            let lengthAt = r.offset
            let length = try r.readLength(limit: r.remaining)
            guard r.offset - lengthAt <= TSDBIndexLayout.seriesLengthVarintMax else {
                throw DecodeError(.malformed, at: lengthAt, "series length uvarint longer than 5 bytes")
            }
            let bodyStart = r.offset
            let body = try r.readBytes(length)
            let stored = try r.readBE32()
            let actual = CRC32C.checksum(body)
            guard stored == actual else {
                throw DecodeError(.checksum, at: r.offset - 4, "series at \(lengthAt): CRC 0x\(String(stored, radix: 16)), computed 0x\(String(actual, radix: 16))")
            }
            var b = ByteReader(UnsafeRawBufferPointer(rebasing: r.bytes[0 ..< bodyStart + length]), offset: bodyStart)
            series.append(try readSeriesBody(&b, symbols))
            try expectEnd(b, "series at \(lengthAt)")
        }
        return series
    }

    private static func readSeriesBody(_ b: inout ByteReader, _ symbols: [ByteString]) throws(DecodeError) -> IndexSeries {
        let fingerprint = try b.readBE64()
        let labelCount = try b.readLength(limit: b.remaining / 2)  // two uvarints per label
        var labels: [SeriesLabel] = []
        labels.reserveCapacity(labelCount)
        for _ in 0 ..< labelCount {
            let name = try symbol(&b, symbols)
            let value = try symbol(&b, symbols)
            labels.append(SeriesLabel(name: name, value: value))
        }
        let chunkCount = try b.readLength(limit: b.remaining / 8)  // a chunk meta is at least 8 bytes
        var chunks: [ChunkMeta] = []
        chunks.reserveCapacity(chunkCount)
        var previousMax: Int64 = 0
        for i in 0 ..< chunkCount {
            let minField = try b.readVarint()
            let minTime = i == 0 ? minField : previousMax &+ minField
            let maxTime = minTime &+ Int64(bitPattern: try b.readUvarint())
            let kb = try uint32(&b, "chunk KB")
            let seriesIndex = try uint32(&b, "chunk SeriesIndex")
            let checksum = try b.readBE32()
            chunks.append(ChunkMeta(minTime: minTime, maxTime: maxTime, kb: kb, seriesIndex: seriesIndex, checksum: checksum))
            previousMax = maxTime
        }
        return IndexSeries(labels: labels, fingerprint: fingerprint, chunks: chunks)
    }

    private static func symbol(_ b: inout ByteReader, _ symbols: [ByteString]) throws(DecodeError) -> ByteString {
        let at = b.offset
        let ref = try b.readUvarint()
        guard ref < UInt64(symbols.count) else {
            throw DecodeError(.malformed, at: at, "symbol ref \(ref) out of range (\(symbols.count) symbols)")
        }
        return symbols[Int(ref)]
    }

    private static func uint32(_ b: inout ByteReader, _ what: String) throws(DecodeError) -> UInt32 {
        let at = b.offset
        let v = try b.readUvarint()
        guard v <= UInt64(UInt32.max) else { throw DecodeError(.malformed, at: at, "\(what) \(v) overflows uint32") }
        return UInt32(v)
    }

    /// §3.3 and §3.4: 4-aligned framed lists of BE32 words, `[BE32 1 (names)] ‖ BE32 n ‖ n words`.
    private static func checkFramedLists(_ section: ByteReader, what: String, startsWithNameCount: Bool) throws(DecodeError) {
        var r = section
        while !r.isAtEnd {
            try consumePadding(&r, TSDBIndexLayout.listAlignment)
            let at = r.offset
            var list = try readFramed(&r, "\(what) at \(at)")
            if startsWithNameCount {
                let keys = try list.readBE32()
                guard keys == 1 else { throw DecodeError(.malformed, at: at + 4, "\(what) with \(keys) names, expected 1") }
            }
            let countAt = list.offset
            let count = Int(try list.readBE32())
            guard list.remaining == 4 * count else {
                throw DecodeError(.malformed, at: countAt, "\(what): \(count) entries in \(list.remaining) bytes")
            }
        }
    }

    /// §3.5 and §3.6: `framed(BE32 n ‖ n × (uvarint keyCount ‖ keyCount × ustr ‖ uvarint offset))`.
    private static func checkTable(_ section: ByteReader, what: String, keyCount: UInt64) throws(DecodeError) {
        var section = section
        var r = try readFramed(&section, what)
        try expectEnd(section, "\(what) section")
        let count = try r.readBE32()
        for _ in 0 ..< count {
            let at = r.offset
            let keys = try r.readUvarint()
            guard keys == keyCount else { throw DecodeError(.malformed, at: at, "\(what) entry with key count \(keys), expected \(keyCount)") }
            for _ in 0 ..< keys { _ = try r.readUvarintBytes() }
            _ = try r.readUvarint()
        }
        try expectEnd(r, what)
    }

    // §3.7
    private static func checkFingerprintOffsets(_ section: ByteReader) throws(DecodeError) {
        var section = section
        var r = try readFramed(&section, "fingerprint offsets")
        try expectEnd(section, "fingerprint offsets section")
        let count = Int(try r.readBE32())
        guard r.remaining == 16 * count else {
            throw DecodeError(.malformed, at: r.offset - 4, "fingerprint offsets: \(count) entries in \(r.remaining) bytes")
        }
    }

    /// Everything except the series is a function of the series (§4): re-derive it and compare.
    private static func checkDerivedParts(
        _ bytes: UnsafeRawBufferPointer, _ contents: TSDBIndexContents, _ toc: TSDBTOC
    ) throws(DecodeError) {
        let bounds = TSDBTimeBounds.of(contents.series)
        guard bounds.from == toc.from, bounds.through == toc.through else {
            throw DecodeError(.malformed, at: bytes.count - 20,
                              "TOC bounds [\(toc.from), \(toc.through)] differ from the chunks' [\(bounds.from), \(bounds.through)]")
        }
        var w = ByteWriter(capacity: bytes.count)
        let group = IndexSeriesGroup(series: IndexSeriesColumns(contents.series), datasetPosition: nil)
        guard IndexEncoder.write([group], from: toc.from, through: toc.through, into: &w, sizeLimit: bytes.count) else {
            throw DecodeError(.malformed, at: toc.labelIndicesTable, "the series imply tables larger than the whole index")
        }
        let first = w.bytes.withUnsafeBytes { derived -> Int? in
            let n = min(derived.count, bytes.count)
            for i in 0 ..< n where derived[i] != bytes[i] { return i }
            return derived.count == bytes.count ? nil : n
        }
        guard let at = first else { return }
        throw DecodeError(.malformed, at: at, "\(sectionName(at, toc, bytes.count)) differs from what its series imply")
    }

    private static func sectionName(_ at: Int, _ toc: TSDBTOC, _ size: Int) -> String {
        let starts: [(Int, String)] = [
            (size - TSDBIndexLayout.tocSize, "TOC"), (toc.fingerprintOffsets, "fingerprint offsets"),
            (toc.postingsTable, "postings offset table"), (toc.labelIndicesTable, "label indices table"),
            (toc.postings, "postings"), (toc.labelIndices, "label indices"), (toc.series, "series"),
            (toc.symbols, "symbol table"),
        ]
        return starts.first { at >= $0.0 }?.1 ?? "header"
    }
}
