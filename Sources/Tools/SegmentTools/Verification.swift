import BinaryCoding
import SegmentObject

/// What `verify` says about one object.
public struct VerifyResult: Sendable {
    public var path: String
    public var sizeBytes: Int
    /// Datasets checked (0 on failure).
    public var datasetCount: Int
    public var failure: VerifyFailure?

    public var isValid: Bool { failure == nil }

    /// `OK   path: N datasets, B bytes` or `FAIL path: …`.
    public var line: String {
        if let failure { return "FAIL \(path): \(failure)" }
        return "OK   \(path): \(datasetCount) datasets, \(sizeBytes) bytes"
    }
}

/// The first problem found: where (dataset, section, absolute offset in the object) and what.
public struct VerifyFailure: Sendable, CustomStringConvertible {
    /// Dataset position, when the problem is inside one.
    public var dataset: Int?
    /// Section name (`index.tsdb`, `profiles.parquet`, `symbols.symdb`, ...), when inside one.
    public var section: String?
    /// Absolute byte offset in the object; nil for errors that are not decode errors.
    public var offset: Int?
    public var message: String

    /// `dataset 2 / profiles.parquet / …: malformed at offset 12345 (0x3039): …`
    public var description: String { message }

    init(_ e: DecodeError) {
        if let d = e.context.first, d.hasPrefix("dataset "), let n = Int(d.dropFirst("dataset ".count)) {
            dataset = n
            section = e.context.count > 1 ? e.context[1] : nil
        }
        offset = e.offset
        let place = e.context.isEmpty ? "object" : e.context.joined(separator: " / ")
        message = "\(place): \(e.kind.rawValue) at offset \(e.offset) (0x\(String(e.offset, radix: 16))): \(e.message)"
    }

    init(_ error: Error) {
        message = "\(error)"
    }
}

public enum ObjectVerification {
    /// Deep check of one object (container, every section, and how they agree).
    public static func verify(_ input: ObjectInput) -> VerifyResult {
        var result = VerifyResult(path: input.path, sizeBytes: input.bytes.count, datasetCount: 0)
        do {
            result.datasetCount = try input.verified().datasets.count
        } catch let e as DecodeError {
            result.failure = VerifyFailure(e)
        } catch {
            result.failure = VerifyFailure(error)
        }
        return result
    }
}
