import Arena
import BinaryCoding
import ProfilesParquet
import SymbolDB

/// Reads a whole symdb file from an array (no typed-throws closures in test code: they crash the
/// 6.3 compiler when converted to untyped ones).
func readSymDB(_ bytes: [UInt8]) throws(DecodeError) -> SymbolDBContents {
    let result: Result<SymbolDBContents, DecodeError> = bytes.withUnsafeBytes { raw in
        do throws(DecodeError) { return .success(try SymbolDBReader.read(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}

func decodeDBP32(_ bytes: [UInt8], count: Int) throws(DecodeError) -> [Int32] {
    let result: Result<[Int32], DecodeError> = bytes.withUnsafeBytes { raw in
        var out: [Int32] = []
        do throws(DecodeError) { try DeltaBinaryPacked.decode(raw, count: count, into: &out) } catch { return .failure(error) }
        return .success(out)
    }
    return try result.get()
}

func decodeDBP64(_ bytes: [UInt8], count: Int) throws(DecodeError) -> [Int64] {
    let result: Result<[Int64], DecodeError> = bytes.withUnsafeBytes { raw in
        var out: [Int64] = []
        do throws(DecodeError) { try DeltaBinaryPacked.decode(raw, count: count, into: &out) } catch { return .failure(error) }
        return .success(out)
    }
    return try result.get()
}

func writeSymDB(_ contents: SymbolDBContents) -> [UInt8] {
    var w = ByteWriter()
    SymbolDBWriter.write(contents, into: &w)
    return w.bytes
}

extension StackTreeBuilder {
    /// A tree in an arena of its own (address space only: pages are committed as reached).
    init(expectedNodes: Int = 1024) {
        self.init(in: ColumnArena(capacityBytes: 1 << 28), expectedNodes: expectedNodes)
    }

    /// The batch insertion over arrays: pprof's sample layout read through `map`.
    mutating func insert(samples: [Int32], starts: [UInt32], frames: [UInt32], map: [UInt32]) -> [UInt32] {
        var ids = [UInt32](repeating: 0, count: samples.count)
        samples.withUnsafeBufferPointer { samples in
            starts.withUnsafeBufferPointer { starts in
                frames.withUnsafeBufferPointer { frames in
                    map.withUnsafeBufferPointer { map in
                        ids.withUnsafeMutableBufferPointer { ids in
                            insert(samples: samples, starts: starts, frames: frames, map: map, ids: ids)
                        }
                    }
                }
            }
        }
        return ids
    }
}
