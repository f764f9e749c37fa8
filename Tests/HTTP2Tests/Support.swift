import BinaryCoding
@testable import HTTP2

func fields(_ pairs: [(String, String)]) -> [HeaderField] {
    pairs.map { HeaderField(ByteString($0.0), ByteString($0.1)) }
}

/// A frame as raw bytes, for inputs the serializer would never produce.
func rawFrame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
    var w = ByteWriter()
    w.appendFrameHeader(length: payload.count, type: FrameType(rawValue: type), flags: flags, stream: StreamID(stream))
    w.append(contentsOf: payload)
    return w.bytes
}

/// Every complete frame in `bytes` (header and payload copied out).
func splitFrames(_ bytes: [UInt8]) -> [(FrameHeader, [UInt8])] {
    var out: [(FrameHeader, [UInt8])] = []
    var i = 0
    bytes.withUnsafeBytes { raw in
        while i + FrameHeader.size <= raw.count {
            let h = FrameHeader.parse(UnsafeRawBufferPointer(rebasing: raw[i...]))
            guard i + FrameHeader.size + h.length <= raw.count else { break }
            out.append((h, Array(raw[(i + FrameHeader.size)..<(i + FrameHeader.size + h.length)])))
            i += FrameHeader.size + h.length
        }
    }
    return out
}

/// Feeds `bytes` to a connection in chunks of `chunk` bytes, collecting every event as text
/// (views are only valid during the loop).
@discardableResult
func feed(_ conn: HTTP2Connection, _ bytes: [UInt8], chunk: Int = Int.max, out: inout ByteWriter,
          onEvent: (HTTP2Event, inout ByteWriter) -> Void = { _, _ in }) -> [HTTP2Event] {
    var events: [HTTP2Event] = []
    var start = 0
    repeat {
        let end = min(bytes.count, start + min(chunk, bytes.count - start))
        let slice = Array(bytes[start..<end])
        slice.withUnsafeBytes { raw in
            var input = raw
            while let e = conn.next(&input, into: &out) {
                if case .data(let sid, let v, let end) = e {
                    events.append(.data(sid, UnsafeRawBufferPointer(start: nil, count: 0), endStream: end))
                    _ = v
                } else {
                    events.append(e)
                }
                onEvent(e, &out)
            }
            precondition(input.isEmpty || conn.isClosed)
        }
        start = end
    } while start < bytes.count
    return events
}

extension HTTP2Event {
    var connectionErrorCode: HTTP2ErrorCode? {
        if case .connectionError(let code, _) = self { return code }
        return nil
    }
    var resetCode: HTTP2ErrorCode? {
        if case .streamReset(_, let code, _) = self { return code }
        return nil
    }
}

/// Bytes with a stable address for the test's lifetime, so tests need no closures around
/// throwing calls.
final class RawBytes {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ bytes: [UInt8]) {
        buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 8)
        buffer.copyBytes(from: bytes)
        view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<bytes.count])
    }
    let view: UnsafeRawBufferPointer
    deinit { buffer.deallocate() }
}

func decodeBlock(_ d: inout HPACKDecoder, _ bytes: [UInt8]) throws(HTTP2ProtocolError) -> [HeaderField]? {
    let raw = RawBytes(bytes)
    defer { withExtendedLifetime(raw) {} }
    return try d.decode(raw.view)
}
