import Runtime
import Synchronization
import Testing

@Suite(.serialized)
struct EchoTests {
    @Test func echoServesConcurrentClientsOnTwoLoops() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        defer { group.shutdown() }

        let clients = 8
        let mismatches = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        var threads: [TestThread] = []
        for client in 0..<clients {
            threads.append(TestThread {
                let payload = testBytes(count: 1 + client * 40_000, seed: UInt64(client))
                do {
                    let echoed = try echoRoundTrip(port: port, payload: payload)
                    if echoed != payload { mismatches.add(1, ordering: .relaxed) }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            })
        }
        while let thread = threads.popLast() { thread.join() }

        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(waitUntil { stats.snapshot.closed == clients })
        #expect(stats.snapshot.errors == 0)
        #expect(group.loops.map(\.acceptedConnections).reduce(0, +) == clients)
    }

    @Test func largePayloadIsEchoedWithBoundedOutboundQueue() throws {
        var configuration = EventLoopConfiguration()
        configuration.outboundHighWatermarkBytes = 256 * 1024
        configuration.outboundLowWatermarkBytes = 64 * 1024
        let group = try EventLoopGroup(loopCount: 2, configuration: configuration)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        defer { group.shutdown() }

        let payload = testBytes(count: 8 << 20, seed: 42)
        // The reader starts late, so the echo fills the socket buffers and the
        // server's queue must cross the high watermark and pause reading.
        let echoed = try echoRoundTrip(port: port, payload: payload, readerDelayMs: 300)
        #expect(echoed.count == payload.count)
        #expect(echoed == payload)
        #expect(waitUntil { stats.snapshot.closed == 1 })
        let values = stats.snapshot
        #expect(values.errors == 0)
        #expect(values.writableEvents > 0, "backpressure never engaged")
        // One receive buffer may land on top of a queue just under the high watermark.
        #expect(values.outboundPeakBytes <= configuration.outboundHighWatermarkBytes + configuration.receiveBufferBytes)
    }

    @Test func loopsWithoutARingServeSockets() throws {
        var configuration = EventLoopConfiguration()
        configuration.ringEntries = 0
        let group = try EventLoopGroup(loopCount: 1, configuration: configuration)
        #expect(group.loops[0].ring == nil)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        defer { group.shutdown() }
        let payload = testBytes(count: 100_000, seed: 5)
        #expect(try echoRoundTrip(port: port, payload: payload) == payload)
    }

    @Test func reusePortListenersAcceptOnBothLoops() throws {
        let group = try EventLoopGroup(loopCount: 2)
        let stats = EchoStats()
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(stats: stats) }
        group.start()
        defer { group.shutdown() }

        // The kernel hashes each 4-tuple to one listener; with 40 source ports the
        // chance that every connection lands on the same loop is 2^-39.
        for client in 0..<40 {
            let echoed = try echoRoundTrip(port: port, payload: [UInt8(client)])
            #expect(echoed == [UInt8(client)])
        }
        let accepted = group.loops.map(\.acceptedConnections)
        #expect(accepted.reduce(0, +) == 40)
        #expect(accepted.allSatisfy { $0 > 0 }, "accepted per loop: \(accepted)")
    }
}
