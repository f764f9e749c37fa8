import BinaryCoding
import ProfilesParquet
import SymbolDB
import TSDBIndex

/// A dataset with its sections decoded.
public struct DatasetContents: Sendable {
    public var layout: DatasetLayout
    /// The dataset's `index.tsdb`, or the tenant index of a Format1 dataset.
    public var index: TSDBIndexContents
    /// Format0 only.
    public var profiles: ProfilesTable?
    public var symbols: SymbolDBContents?
}

/// An object whose every section was read and cross-checked.
public struct VerifiedSegmentObject: Sendable {
    public var layout: SegmentObjectLayout
    public var datasets: [DatasetContents]
}

/// The deep check behind `segtool verify` (segment-object.md §15 #3, #9–#12): opens the
/// container, runs every section reader, and checks what ties the sections and the metadata
/// together. The first problem is thrown with its absolute offset and the dataset/section named.
public enum SegmentObjectVerifier {
    public static func verify(_ object: UnsafeRawBufferPointer, meta: BlockMeta? = nil) throws(DecodeError) -> VerifiedSegmentObject {
        let layout = try SegmentObjectReader.open(object, meta: meta)
        var datasets: [DatasetContents] = []
        datasets.reserveCapacity(layout.datasets.count)
        for ds in layout.datasets {
            datasets.append(try read(ds, object))
        }
        try ContentChecks.block(layout, datasets)
        for d in datasets {
            switch d.layout.format {
            case .services: try ContentChecks.service(d, compactionLevel: layout.meta.compactionLevel)
            case .tenantIndex: try ContentChecks.tenantIndex(d, of: datasets, compactionLevel: layout.meta.compactionLevel)
            }
        }
        return VerifiedSegmentObject(layout: layout, datasets: datasets)
    }

    private static func read(_ ds: DatasetLayout, _ object: UnsafeRawBufferPointer) throws(DecodeError) -> DatasetContents {
        switch ds.format {
        case .tenantIndex:
            let s = ds.sections[0]
            let index = try section(s, ds) { b throws(DecodeError) in try TSDBIndexReader.read(b) }
            return DatasetContents(layout: ds, index: index)
        case .services:
            let profiles = try section(ds.sections[0], ds) { b throws(DecodeError) in try ProfilesParquetReader.read(b) }
            let index = try section(ds.sections[1], ds) { b throws(DecodeError) in try TSDBIndexReader.read(b) }
            let symbols = try section(ds.sections[2], ds) { b throws(DecodeError) in try SymbolDBReader.read(b) }
            return DatasetContents(layout: ds, index: index, profiles: profiles, symbols: symbols)
        }

        func section<T>(_ s: Section, _ ds: DatasetLayout, _ body: (UnsafeRawBufferPointer) throws(DecodeError) -> T) throws(DecodeError) -> T {
            do {
                return try body(UnsafeRawBufferPointer(rebasing: object[s.range]))
            } catch {
                throw SegmentObjectVerifier.locate(error, s, ds)
            }
        }
    }

    /// Makes a section reader's error absolute and names the dataset and section.
    static func locate(_ error: DecodeError, _ s: Section, _ ds: DatasetLayout) -> DecodeError {
        let named = error.context.first == s.kind.rawValue ? error : error.inRegion(s.kind.rawValue)
        return named.inRegion("dataset \(ds.position)", base: s.range.lowerBound)
    }
}
