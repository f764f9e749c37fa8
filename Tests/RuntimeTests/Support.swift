import TestSupport
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain OS thread for blocking test clients (no Foundation, no cooperative pool).
struct TestThread {
    private let thread: OSThread

    init(_ body: @escaping @Sendable () -> Void) {
        thread = OSThread.spawn(body)!
    }

    func join() {
        thread.join()
    }
}

/// Polls `condition` every millisecond for up to `timeoutMs`; true when it held.
func waitUntil(timeoutMs: Int = 10_000, _ condition: () -> Bool) -> Bool {
    for _ in 0..<timeoutMs {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// Deterministic bytes (SplitMix64) so a failure reproduces.
func testBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        bytes[i] = UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
    return bytes
}

/// Sends `payload` from a writer thread (then half-closes) while this thread
/// reads everything until end of stream; returns what came back. `host` is an IP literal.
func echoRoundTrip(host: String = "127.0.0.1", port: UInt16, payload: [UInt8], readerDelayMs: UInt32 = 0) throws -> [UInt8] {
    let socket = try Socket.connect(to: EndpointAddress.literal(host, port: Int(port))!)
    defer { socket.close() }
    let writeError = Mutex<Errno?>(nil)
    let writer = TestThread {
        do {
            try payload.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {  // in uneven chunks, to exercise reassembly
                    let chunk = min(bytes.count - offset, 1 + (offset * 7919) % 300_000)
                    try socket.writeAll(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + chunk)]))
                    offset += chunk
                }
            }
            try socket.shutdownWrite()
        } catch let error as Errno {
            writeError.withLock { $0 = error }
        } catch {}
    }
    if readerDelayMs > 0 { usleep(readerDelayMs * 1000) }
    var received: [UInt8] = []
    received.reserveCapacity(payload.count)
    var buffer = [UInt8](repeating: 0, count: 128 * 1024)
    while true {
        let n = try buffer.withUnsafeMutableBytes { raw in try socket.read(into: raw) ?? 0 }
        if n == 0 { break }
        received.append(contentsOf: buffer[..<n])
    }
    writer.join()
    if let error = writeError.withLock({ $0 }) { throw error }
    return received
}

/// Echoes every byte back and records what the connection went through.
final class EchoHandler: ConnectionHandler {
    let stats: EchoStats
    private var writableEvents = 0

    init(stats: EchoStats) {
        self.stats = stats
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        connection.write(bytes)
    }

    func connectionWritable(_ connection: Connection) {
        writableEvents += 1
    }

    func connectionClosed(_ connection: Connection, error: Errno?) {
        let peak = connection.outboundQueuedBytesPeak
        let writable = writableEvents
        stats.record { stats in
            stats.closed += 1
            stats.errors += error == nil ? 0 : 1
            stats.outboundPeakBytes = max(stats.outboundPeakBytes, peak)
            stats.writableEvents += writable
        }
    }
}

final class EchoStats: Sendable {
    struct Values {
        var closed = 0
        var errors = 0
        var outboundPeakBytes = 0
        var writableEvents = 0
    }

    private let values = Mutex(Values())

    func record(_ body: (inout Values) -> Void) {
        values.withLock { body(&$0) }
    }

    var snapshot: Values { values.withLock { $0 } }
}
