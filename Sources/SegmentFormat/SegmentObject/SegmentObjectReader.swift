import BinaryCoding

/// Opens a whole object and validates its container (segment-object.md §3, §4, §15):
/// datasets contiguous from 0 up to the trailer, TOCs of the right length inside each
/// dataset, known formats, string indices and label sets in range, section framing.
/// Errors carry absolute object offsets; `context` names the dataset and section.
public enum SegmentObjectReader {
    /// `meta` supplies external metadata (from the metastore or `block-metas.json`), needed
    /// for era-A objects, which have no trailer; without it the trailer is read.
    public static func open(_ object: UnsafeRawBufferPointer, meta external: BlockMeta? = nil) throws(DecodeError) -> SegmentObjectLayout {
        let meta: BlockMeta
        let trailer: Range<Int>?
        let dataEnd: Int
        if let external {
            meta = external
            dataEnd = try externalDataEnd(external, objectLength: object.count)
            trailer = external.metadataOffset == 0 ? nil : dataEnd ..< object.count
        } else {
            let (m, start) = try MetadataTrailer.readLocated(object)
            guard m.metadataOffset == UInt64(start) else {
                throw DecodeError(.malformed, at: start, "metadata_offset \(m.metadataOffset) is not the trailer start \(start)")
                    .inRegion("metadata")
            }
            meta = m
            dataEnd = start
            trailer = start ..< object.count
        }
        // Semantic metadata errors point at the metadata's first byte (0 when it is external).
        let metadataStart = trailer?.lowerBound ?? 0
        let strings = StringLookup(meta.stringTable)
        do throws(DecodeError) {
            if let first = meta.stringTable.first, !first.isEmpty {
                throw DecodeError(.malformed, at: 0, "string_table[0] must be empty")
            }
            try strings.check(meta.tenant, "tenant")
            try strings.check(meta.createdBy, "created_by")
        } catch {
            throw error.inRegion("metadata", base: metadataStart)
        }
        var datasets: [DatasetLayout] = []
        datasets.reserveCapacity(meta.datasets.count)
        var next = 0
        for (i, ds) in meta.datasets.enumerated() {
            let layout = try dataset(ds, position: i, start: next, dataEnd: dataEnd, strings: strings, object: object, metadataStart: metadataStart)
            datasets.append(layout)
            next = layout.range.upperBound
        }
        guard next == dataEnd else {
            throw DecodeError(.malformed, at: next, "datasets end at \(next), but data ends at \(dataEnd)")
        }
        return SegmentObjectLayout(meta: meta, trailer: trailer, datasets: datasets, dataEnd: dataEnd)
    }

    private static func externalDataEnd(_ meta: BlockMeta, objectLength: Int) throws(DecodeError) -> Int {
        if meta.size != 0 && meta.size != UInt64(objectLength) {
            throw DecodeError(.malformed, at: objectLength, "metadata size \(meta.size) differs from the object length \(objectLength)")
                .inRegion("metadata")
        }
        guard meta.metadataOffset <= UInt64(max(0, objectLength - MetadataTrailer.footerBytes)) else {
            throw DecodeError(.malformed, at: objectLength, "metadata_offset \(meta.metadataOffset) leaves no room for a trailer")
                .inRegion("metadata")
        }
        // Era A: no trailer, the datasets run to the end of the object.
        return meta.metadataOffset == 0 ? objectLength : Int(meta.metadataOffset)
    }

    private static func dataset(
        _ ds: DatasetMeta, position: Int, start: Int, dataEnd: Int, strings: StringLookup, object: UnsafeRawBufferPointer,
        metadataStart: Int
    ) throws(DecodeError) -> DatasetLayout {
        let region = "dataset \(position)"
        guard let format = DatasetFormat(rawValue: ds.format) else {
            throw DecodeError(.malformed, at: start, "unknown dataset format \(ds.format)").inRegion(region)
        }
        let toc = ds.tableOfContents
        guard toc.count == format.sectionCount else {
            throw DecodeError(.malformed, at: start, "format \(ds.format) needs \(format.sectionCount) TOC entries, has \(toc.count)")
                .inRegion(region)
        }
        guard toc[0] == UInt64(start) else {
            throw DecodeError(.malformed, at: start, "dataset starts at \(toc[0]), expected \(start) (contiguous from 0)").inRegion(region)
        }
        guard ds.size <= UInt64(dataEnd - start) else {
            throw DecodeError(.malformed, at: start, "size \(ds.size) runs past the data end \(dataEnd)").inRegion(region)
        }
        let end = start + Int(ds.size)
        var sections: [Section] = []
        let kinds: [SectionKind] = format == .services ? [.profiles, .index, .symbols] : [.datasetIndex]
        for (k, kind) in kinds.enumerated() {
            let lower = toc[k]
            let upper = k + 1 < toc.count ? toc[k + 1] : UInt64(end)
            guard lower <= upper, upper <= UInt64(end) else {
                throw DecodeError(.malformed, at: start, "TOC entry \(k) (\(lower)) outside the dataset [\(start), \(end))").inRegion(region)
            }
            let range = Int(lower) ..< Int(upper)
            do {
                try SectionFraming.check(kind, UnsafeRawBufferPointer(rebasing: object[range]))
            } catch {
                throw error.inRegion(kind.rawValue, base: range.lowerBound).inRegion(region)
            }
            sections.append(Section(kind: kind, range: range))
        }
        let tenant: ByteString, name: ByteString, labelSets: [[LabelPair]]
        do {
            tenant = try strings.resolve(ds.tenant, "tenant")
            name = try strings.resolve(ds.name, "name")
        } catch {
            throw error.inRegion("datasets[\(position)]").inRegion("metadata", base: metadataStart)
        }
        do {
            labelSets = try DatasetLabels.decode(ds.labels, strings: strings.table)
        } catch {
            throw DecodeError(error.kind, at: 0, "labels[\(error.offset)]: \(error.message)")
                .inRegion("datasets[\(position)]").inRegion("metadata", base: metadataStart)
        }
        return DatasetLayout(
            position: position, format: format, tenant: tenant, name: name,
            minTimeMs: ds.minTimeMs, maxTimeMs: ds.maxTimeMs, labelSets: labelSets,
            range: start ..< end, sections: sections)
    }
}

/// String-table lookups that fail instead of trapping (§6.1: every index must be in range).
struct StringLookup {
    let table: [ByteString]

    init(_ table: [ByteString]) { self.table = table }

    func resolve(_ index: Int32, _ field: String) throws(DecodeError) -> ByteString {
        if index == 0 && table.isEmpty { return .empty }
        guard index >= 0, Int(index) < table.count else {
            throw DecodeError(.malformed, at: 0, "\(field): string index \(index) outside the table of \(table.count)")
        }
        return table[Int(index)]
    }

    func check(_ index: Int32, _ field: String) throws(DecodeError) {
        _ = try resolve(index, field)
    }
}
