import BinaryCoding
import SegmentObject
import TSDBIndex

/// A flushed dataset whose three section writes add their time to `times[position]`, so a
/// flush can report what each (tenant, service) dataset cost (upstream's per-head flush
/// duration) although the assembler writes them all into one object.
struct TimedDataset: SegmentDatasetSource {
    final class Times {
        var nanoseconds: [Int64]
        init(count: Int) { nanoseconds = Array(repeating: 0, count: count) }
    }

    let base: FlushedDataset
    let position: Int
    let times: Times

    var tenant: ByteString { base.tenant }
    var service: ByteString { base.service }
    var minTimeNanos: Int64 { base.minTimeNanos }
    var maxTimeNanos: Int64 { base.maxTimeNanos }
    var profileTypes: [ByteString] { base.profileTypes }
    var hasUnsymbolizedProfiles: Bool { base.hasUnsymbolizedProfiles }
    var indexSeriesColumns: IndexSeriesColumns { base.indexSeriesColumns }

    func writeProfiles(into w: inout ByteWriter) { timed { base.writeProfiles(into: &w) } }
    func writeIndex(into w: inout ByteWriter) { timed { base.writeIndex(into: &w) } }
    func writeSymbols(into w: inout ByteWriter) { timed { base.writeSymbols(into: &w) } }

    private func timed(_ write: () -> Void) {
        let start = ContinuousClock.now
        write()
        times.nanoseconds[position] += Self.nanoseconds(ContinuousClock.now - start)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}
