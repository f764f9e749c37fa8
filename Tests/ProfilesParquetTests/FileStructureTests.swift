import BinaryCoding
@testable import ProfilesParquet
import Testing
import TestSupport

/// Column index and offset index as read back for checks.
struct ColumnIndex {
    var nullPages: [Bool] = []
    var minValues: [[UInt8]] = []
    var maxValues: [[UInt8]] = []
    var boundaryOrder: Int32 = -1
    var nullCounts: [Int64] = []
    var repetitionHistograms: [Int64]?
    var definitionHistograms: [Int64]?

    init(_ bytes: ArraySlice<UInt8>) throws {
        try Array(bytes).withUnsafeBytes { raw in
            var t = ThriftReader(ByteReader(raw))
            try t.beginStruct()
            while let f = try t.nextField() {
                switch f.id {
                case 1:
                    let (n, _) = try t.readListHeader(f.type)
                    for _ in 0 ..< n { nullPages.append(try t.readBoolElement()) }
                case 2, 3:
                    let (n, e) = try t.readListHeader(f.type)
                    for _ in 0 ..< n {
                        let v = Array(try t.readBinary(e))
                        if f.id == 2 { minValues.append(v) } else { maxValues.append(v) }
                    }
                case 4: boundaryOrder = try t.readI32(f.type)
                case 5: nullCounts = try FileMetadata.readI64List(&t, f.type)
                case 6: repetitionHistograms = try FileMetadata.readI64List(&t, f.type)
                case 7: definitionHistograms = try FileMetadata.readI64List(&t, f.type)
                default: try t.skip(f.type)
                }
            }
            #expect(t.offset == raw.count)
        }
    }
}

struct OffsetIndex {
    var locations: [(offset: Int64, size: Int32, firstRow: Int64)] = []

    init(_ bytes: ArraySlice<UInt8>) throws {
        try Array(bytes).withUnsafeBytes { raw in
            var t = ThriftReader(ByteReader(raw))
            try t.beginStruct()
            while let f = try t.nextField() {
                guard f.id == 1 else { try t.skip(f.type); continue }
                let (n, _) = try t.readListHeader(f.type)
                for _ in 0 ..< n {
                    var l: (Int64, Int32, Int64) = (-1, -1, -1)
                    try t.beginStruct()
                    while let g = try t.nextField() {
                        switch g.id {
                        case 1: l.0 = try t.readI64(g.type)
                        case 2: l.1 = try t.readI32(g.type)
                        case 3: l.2 = try t.readI64(g.type)
                        default: try t.skip(g.type)
                        }
                    }
                    locations.append(l)
                }
            }
            #expect(t.offset == raw.count)
        }
    }
}

/// §10 checks 2, 3, 8 and 9 on the writer's output.
@Suite struct FileStructureTests {
    static func outputs() throws -> [(String, ProfileColumns)] {
        var all: [(String, ProfileColumns)] = [("synthetic", SampleTables.synthetic()),
                                               ("multipage", SampleTables.large(rows: 100, samplesPerRow: 100))]
        for ds in try GoldenSections.all() { all.append((ds.name, try readTable(ds.profiles).columns)) }
        return all
    }

    /// Check 2: the 21-leaf schema of §3, element by element.
    @Test func schemaIsTheCurrentForm() throws {
        let file = try ParsedFile(writeSection(SampleTables.synthetic()))
        let s = file.metadata.schema
        #expect(s.count == 33)
        #expect(s[0] == FileMetadata.SchemaElement(name: "Profile", numChildren: 13))
        #expect(s.allSatisfy { $0.fieldID == nil })
        #expect(s.filter { $0.repetition == nil }.count == 1)
        #expect(file.leaves.map { $0.path } == ProfileColumn.allCases.map { $0.path })
        for (leaf, column) in zip(file.leaves, ProfileColumn.allCases) {
            #expect(leaf.physicalType == column.physicalType.rawValue)
            #expect(leaf.maxDefinitionLevel == column.maxDefinitionLevel && leaf.maxRepetitionLevel == column.maxRepetitionLevel)
            #expect(leaf.typeLength == (column.physicalType == .int32 ? 32 : column.physicalType == .int64 ? 64 : column.physicalType == .byteArray ? nil : 16))
        }
        func element(_ name: String, after index: Int = 0) -> FileMetadata.SchemaElement {
            s[(index...).first { s[$0].name == name }!]
        }
        #expect(element("ID") == .init(type: 7, typeLength: 16, repetition: 0, name: "ID", logical: "UUID"))
        #expect(element("SeriesIndex") == .init(type: 1, typeLength: 32, repetition: 0, name: "SeriesIndex", convertedType: 13, logical: "INTEGER(32,false)"))
        #expect(element("TotalValue") == .init(type: 2, typeLength: 64, repetition: 0, name: "TotalValue", convertedType: 14, logical: "INTEGER(64,false)"))
        #expect(element("Samples") == .init(repetition: 0, name: "Samples", numChildren: 1, convertedType: 3, logical: "LIST"))
        #expect(element("list") == .init(repetition: 2, name: "list", numChildren: 1))
        #expect(element("element") == .init(repetition: 0, name: "element", numChildren: 5))
        #expect(element("Str") == .init(type: 2, typeLength: 64, repetition: 1, name: "Str", convertedType: 18, logical: "INTEGER(64,true)"))
        #expect(element("TraceID") == .init(type: 7, typeLength: 16, repetition: 1, name: "TraceID"))
        #expect(element("TimeNanos") == .init(type: 2, typeLength: 64, repetition: 0, name: "TimeNanos", logical: "TIMESTAMP(NANOS,true)"))
        #expect(element("Key", after: 25) == .init(type: 6, repetition: 0, name: "Key", convertedType: 0, logical: "STRING"))
    }

    /// §3: the golden (2024) schema is the current one minus TraceID and Annotations, with the same
    /// element encoding quirks, so every golden element reappears unchanged except for child counts.
    @Test func goldenSchemaElementsReappear() throws {
        let ours = try ParsedFile(writeSection(SampleTables.synthetic())).metadata.schema
        let golden = try ParsedFile(try GoldenSections.all()[0].profiles).metadata.schema
        #expect(golden.count == 27)
        var expected = ours.filter { !["TraceID", "Annotations"].contains($0.name) }
        expected.removeLast(4) // Annotations' list, element, Key, Value
        expected[0].numChildren = 12
        expected[7].numChildren = 4 // Samples.list.element
        #expect(golden == expected)
    }

    /// Checks 3, 8, 9: chunk metadata, pages, statistics, size statistics and both page indexes agree.
    @Test func metadataAndIndexesAreConsistent() throws {
        for (name, columns) in try Self.outputs() {
            let bytes = writeSection(columns)
            let file = try ParsedFile(bytes)
            #expect(file.metadata.version == 2 && file.metadata.numRows == Int64(columns.rowCount))
            #expect(file.metadata.rowGroups.count == 1)
            let group = file.metadata.rowGroups[0]
            #expect(group.ordinal == 0 && group.numRows == Int64(columns.rowCount))
            #expect(group.totalByteSize == group.columns.reduce(0) { $0 + $1.totalUncompressedSize })
            for (chunk, column) in zip(group.columns, ProfileColumn.allCases) {
                let label = "\(name) \(column)"
                let data = try #require(try file.column(column))
                let pages = try file.pages(column.path)
                let dataPages = pages.filter { $0.header.type == PageType.dataPageV2.rawValue }
                #expect(chunk.codec == 0 && chunk.fileOffset == 0, "\(label)")
                #expect(chunk.numValues == Int64(data.definitionLevels.count), "\(label)")
                #expect(chunk.totalCompressedSize == chunk.totalUncompressedSize)
                #expect(Int64(pages.last!.bodyEnd) - chunk.firstPageOffset == chunk.totalCompressedSize, "\(label)")
                #expect(Int64(dataPages[0].headerStart) == chunk.dataPageOffset)
                // Check 8: encodings, page kinds, CRCs, dictionaries.
                var encodings: Set<Int32> = [column.dataEncoding.rawValue]
                if column.maxDefinitionLevel > 0 { encodings.insert(Encoding.rle.rawValue) }
                if column.dataEncoding == .rleDictionary { encodings.insert(Encoding.plain.rawValue) }
                #expect(chunk.encodings == encodings.sorted(), "\(label)")
                #expect((chunk.dictionaryPageOffset != nil) == (column.dataEncoding == .rleDictionary))
                #expect(pages.count - dataPages.count == (column.dataEncoding == .rleDictionary ? 1 : 0))
                for p in dataPages {
                    #expect(p.header.encoding == column.dataEncoding.rawValue && !p.header.isCompressed)
                    let body = bytes.withUnsafeBytes { pageCRC(UnsafeRawBufferPointer(rebasing: $0[p.bodyStart ..< p.bodyEnd])) }
                    #expect(p.header.crc.map { UInt32(bitPattern: $0) } == (body == 0 ? nil : body))
                }
                var wantStats: [[Int32]] = []
                if column.dataEncoding == .rleDictionary { wantStats.append([2, 0, 1]) }
                wantStats.append([3, column.dataEncoding.rawValue, Int32(dataPages.count)])
                #expect(chunk.encodingStats == wantStats, "\(label)")
                // Check 9: statistics.
                let nulls = data.definitionLevels.filter { $0 != column.maxDefinitionLevel }.count
                #expect(chunk.nullCount == Int64(nulls), "\(label)")
                #expect((chunk.minValue == nil) == (nulls == data.definitionLevels.count), "\(label)")
                #expect(dataPages.reduce(0) { $0 + Int64($1.header.nullCount ?? -1) } == Int64(nulls))
                if column.maxRepetitionLevel > 0 {
                    #expect(chunk.repetitionHistogram == histogram(data.repetitionLevels, column.maxRepetitionLevel), "\(label)")
                } else { #expect(chunk.repetitionHistogram == nil) }
                if column.maxDefinitionLevel > 0 {
                    #expect(chunk.definitionHistogram == histogram(data.definitionLevels, column.maxDefinitionLevel), "\(label)")
                } else { #expect(chunk.definitionHistogram == nil) }
                if column.physicalType == .byteArray {
                    let total = data.byteArrays.reduce(0) { $0 + $1.count }
                    #expect(chunk.unencodedByteArrayBytes == (total == 0 ? nil : Int64(total)), "\(label)")
                }
                // Offset index: data pages only, header offsets, header+body sizes, first rows.
                let oi = try OffsetIndex(bytes[Int(chunk.offsetIndexOffset!) ..< Int(chunk.offsetIndexOffset!) + Int(chunk.offsetIndexLength!)])
                #expect(oi.locations.count == dataPages.count, "\(label)")
                var firstRow: Int64 = 0
                for (l, p) in zip(oi.locations, dataPages) {
                    #expect(l.offset == Int64(p.headerStart) && Int(l.size) == p.bodyEnd - p.headerStart && l.firstRow == firstRow)
                    firstRow += Int64(p.header.numRows)
                }
                #expect(firstRow == Int64(columns.rowCount))
                // Column index: one entry per page (TraceID null pages excepted), counts and histograms.
                let ci = try ColumnIndex(bytes[Int(chunk.columnIndexOffset!) ..< Int(chunk.columnIndexOffset!) + Int(chunk.columnIndexLength!)])
                #expect(ci.nullPages.count == dataPages.count)
                #expect(ci.nullCounts == dataPages.map { $0.header.nullCount! })
                let entries = column == .traceID ? ci.nullPages.filter { !$0 }.count : dataPages.count
                #expect(ci.minValues.count == entries && ci.maxValues.count == entries, "\(label)")
                #expect((ci.repetitionHistograms != nil) == (column.maxRepetitionLevel > 0))
                #expect((ci.definitionHistograms != nil) == (column.maxDefinitionLevel > 0))
                if dataPages.count == 1 { #expect(ci.boundaryOrder == 0) }
                for (i, p) in dataPages.enumerated() {
                    #expect(ci.nullPages[i] == (p.header.minValue == nil))
                    #expect(p.header.nullCount! <= Int64(p.header.numValues))
                }
            }
        }
    }

    /// parquet-go orders the bounds the index lists: a null page counts as zero (or ""), so a
    /// column of several pages of nothing but nulls is ASCENDING, as are equal bounds; TraceID
    /// lists no null page at all.
    @Test func boundaryOrderCountsNullPagesAsZero() throws {
        var columns = SampleTables.large(rows: 50, samplesPerRow: 400)
        columns.sampleSpanIDs = []
        columns.rowHasSpanIDs = Array(repeating: false, count: columns.rowCount)
        let bytes = writeSection(columns)
        let file = try ParsedFile(bytes)
        func columnIndex(_ column: ProfileColumn) throws -> ColumnIndex {
            let chunk = try #require(file.chunk(column.path))
            let start = Int(try #require(chunk.columnIndexOffset))
            return try ColumnIndex(bytes[start ..< start + Int(try #require(chunk.columnIndexLength))])
        }
        for column in [ProfileColumn.labelKey, .labelStr, .labelNum, .labelNumUnit, .spanID] {
            let ci = try columnIndex(column)
            #expect(ci.nullPages.count >= 2 && ci.nullPages.allSatisfy { $0 }, "\(column)")
            #expect(ci.boundaryOrder == 1, "\(column)")
        }
        // Values 1…97 in every page of several: equal bounds, ascending.
        let values = try columnIndex(.value)
        #expect(values.nullPages.count >= 2 && Set(values.minValues).count == 1 && Set(values.maxValues).count == 1)
        #expect(values.boundaryOrder == 1)
    }

    @Test func byteArrayColumnIndexBoundsAreTruncated() throws {
        let bytes = writeSection(SampleTables.synthetic())
        let file = try ParsedFile(bytes)
        let chunk = try #require(file.chunk(ProfileColumn.annotationValue.path))
        let ci = try ColumnIndex(bytes[Int(chunk.columnIndexOffset!) ..< Int(chunk.columnIndexOffset!) + Int(chunk.columnIndexLength!)])
        #expect(ci.minValues == [[]])
        #expect(ci.maxValues == [Array("pyroscope.ingesu".utf8)])
        #expect(chunk.maxValue == Array("pyroscope.ingestion.throttled".utf8))
    }

    func histogram(_ levels: [UInt8], _ max: UInt8) -> [Int64] {
        (0 ... max).map { l in Int64(levels.filter { $0 == l }.count) }
    }
}
