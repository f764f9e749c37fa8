import BinaryCoding

/// Series of an index as columns: every name and value in one byte buffer, labels as ranges of
/// it, one run of labels and of chunks per series. What the encoder reads: a flush of many
/// series allocates nothing per series or label (`[IndexSeries]` holds two arrays per label).
public struct IndexSeriesColumns: Sendable {
    /// One label: its name and value as ranges of `bytes`.
    public struct Label: Sendable {
        public var nameStart: UInt32
        public var nameCount: UInt32
        public var valueStart: UInt32
        public var valueCount: UInt32

        @inlinable
        public init(nameStart: UInt32, nameCount: UInt32, valueStart: UInt32, valueCount: UInt32) {
            self.nameStart = nameStart
            self.nameCount = nameCount
            self.valueStart = valueStart
            self.valueCount = valueCount
        }
    }

    public var bytes: [UInt8] = []
    public var labels: [Label] = []
    /// Series `i` has `labels[labelEnds[i - 1] ..< labelEnds[i]]` (from 0 for the first).
    public var labelEnds: [UInt32] = []
    public var fingerprints: [UInt64] = []
    /// Series `i` has `chunks[chunkEnds[i - 1] ..< chunkEnds[i]]` likewise.
    public var chunkEnds: [UInt32] = []
    public var chunks: [ChunkMeta] = []

    public init() {}

    /// The same series as columns, in the same order.
    public init(_ series: [IndexSeries]) {
        var labelCount = 0, byteCount = 0, chunkCount = 0
        for s in series {
            labelCount += s.labels.count
            chunkCount += s.chunks.count
            for label in s.labels { byteCount += label.name.count + label.value.count }
        }
        bytes.reserveCapacity(byteCount)
        labels.reserveCapacity(labelCount)
        chunks.reserveCapacity(chunkCount)
        labelEnds.reserveCapacity(series.count)
        chunkEnds.reserveCapacity(series.count)
        fingerprints.reserveCapacity(series.count)
        for s in series {
            for label in s.labels {
                let nameStart = UInt32(bytes.count)
                bytes.append(contentsOf: label.name.bytes)
                let valueStart = UInt32(bytes.count)
                bytes.append(contentsOf: label.value.bytes)
                labels.append(Label(nameStart: nameStart, nameCount: UInt32(label.name.count),
                                    valueStart: valueStart, valueCount: UInt32(label.value.count)))
            }
            chunks.append(contentsOf: s.chunks)
            endSeries(fingerprint: s.fingerprint)
        }
    }

    public var count: Int { fingerprints.count }
    public var isEmpty: Bool { fingerprints.isEmpty }

    /// Closes a series made of the labels and chunks appended since the previous one.
    @inlinable
    public mutating func endSeries(fingerprint: UInt64) {
        precondition(labels.count <= Int(UInt32.max) && chunks.count <= Int(UInt32.max), "more labels than u32 ends")
        labelEnds.append(UInt32(labels.count))
        chunkEnds.append(UInt32(chunks.count))
        fingerprints.append(fingerprint)
    }

    public func labelRange(_ series: Int) -> Range<Int> {
        (series == 0 ? 0 : Int(labelEnds[series - 1])) ..< Int(labelEnds[series])
    }

    public func chunkRange(_ series: Int) -> Range<Int> {
        (series == 0 ? 0 : Int(chunkEnds[series - 1])) ..< Int(chunkEnds[series])
    }

    public func name(_ label: Label) -> ArraySlice<UInt8> { bytes[Int(label.nameStart) ..< Int(label.nameStart + label.nameCount)] }
    public func value(_ label: Label) -> ArraySlice<UInt8> { bytes[Int(label.valueStart) ..< Int(label.valueStart + label.valueCount)] }

    /// The series as values (one array per label: for tests and tools, not the flush).
    public var series: [IndexSeries] {
        (0 ..< count).map { i in
            IndexSeries(labels: labelRange(i).map { SeriesLabel(name: ByteString(Array(name(labels[$0]))),
                                                                value: ByteString(Array(value(labels[$0])))) },
                        fingerprint: fingerprints[i], chunks: Array(chunks[chunkRange(i)]))
        }
    }

    /// `Metadata.EnsureBounds` over every chunk (tsdb-index.md §3.8).
    public var timeBounds: (from: Int64, through: Int64) { TSDBTimeBounds.of(chunks: chunks) }
}
