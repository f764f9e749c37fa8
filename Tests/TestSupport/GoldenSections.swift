import Foundation

/// One dataset of a golden segment, cut into its three sections using the
/// metadata in `block-metas.json` (the golden objects have no trailer).
public struct GoldenDataset: Sendable {
    public var segmentID: String
    public var datasetIndex: Int
    public var tenant: String
    public var service: String
    public var minTimeMs: Int64
    public var maxTimeMs: Int64
    /// Absolute offsets `[profiles, tsdb, symbols]` and the dataset's size.
    public var tableOfContents: [Int]
    public var size: Int
    public var profiles: [UInt8]
    public var tsdb: [UInt8]
    public var symbols: [UInt8]

    public var name: String { "\(segmentID)#\(datasetIndex)" }
}

public enum GoldenSections {
    /// All 11 datasets of the 10 golden segments, in segment-ID order.
    public static func all() throws -> [GoldenDataset] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: TestData.blockMetasJSON)) as! [String: Any]
        let blocks = json["blocks"] as! [[String: Any]]
        var result: [GoldenDataset] = []
        for (id, url) in try TestData.goldenSegments() {
            let block = blocks.first { $0["id"] as? String == id }!
            let strings = block["stringTable"] as! [String]
            let object = try TestData.bytes(url)
            for (i, ds) in (block["datasets"] as! [[String: Any]]).enumerated() {
                let toc = (ds["tableOfContents"] as! [String]).map { Int($0)! }
                let size = Int(ds["size"] as! String)!
                result.append(GoldenDataset(
                    segmentID: id, datasetIndex: i,
                    tenant: strings[ds["tenant"] as? Int ?? 0],
                    service: strings[ds["name"] as? Int ?? 0],
                    minTimeMs: Int64(ds["minTime"] as! String)!,
                    maxTimeMs: Int64(ds["maxTime"] as! String)!,
                    tableOfContents: toc, size: size,
                    profiles: Array(object[toc[0] ..< toc[1]]),
                    tsdb: Array(object[toc[1] ..< toc[2]]),
                    symbols: Array(object[toc[2] ..< toc[0] + size])))
            }
        }
        return result
    }
}
