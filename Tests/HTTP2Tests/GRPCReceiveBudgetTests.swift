import BinaryCoding
import Synchronization
import Testing
@testable import GRPC
@testable import HTTP2

/// A budget that counts what is charged to it (and the most ever charged at once).
final class CountingBudget: GRPCReceiveBudget {
    let bytesMax: Int
    private let state = Mutex((used: 0, peak: 0))

    init(bytesMax: Int) { self.bytesMax = bytesMax }

    var used: Int { state.withLock { $0.used } }
    var peak: Int { state.withLock { $0.peak } }

    func reserve(atLeast minimum: Int, upTo maximum: Int) -> Int? {
        state.withLock { s in
            let granted = min(maximum, bytesMax - s.used)
            guard granted >= minimum else { return nil }
            s.used += granted
            s.peak = max(s.peak, s.used)
            return granted
        }
    }

    func release(_ bytes: Int) {
        state.withLock { s in
            s.used -= bytes
            precondition(s.used >= 0, "released more than was charged")
        }
    }
}

/// `GRPCServerConfiguration.receiveBudget`: the bytes of messages arriving in pieces are charged
/// while they arrive and given back when the message is complete or its call ends.
@Suite struct GRPCReceiveBudgetTests {
    static let path: ByteString = "/echo.Echo/Say"

    static func pair(_ budget: CountingBudget) -> GRPCPair {
        GRPCPair(methods: [path]) { $0.receiveBudget = budget }
    }

    /// A call whose first `sent` body bytes of a `declared`-byte message are on the wire.
    static func partialCall(_ pair: GRPCPair, declared: Int, sent: Int) -> CallID {
        let call = pair.client.startCall(path: path, into: &pair.toServer)!
        let prefix: [UInt8] = [0, UInt8(declared >> 24 & 0xFF), UInt8(declared >> 16 & 0xFF), UInt8(declared >> 8 & 0xFF), UInt8(declared & 0xFF)]
        (prefix + [UInt8](repeating: 7, count: sent)).withUnsafeBytes {
            pair.client.http2.sendData($0, on: call.stream, endStream: false, into: &pair.toServer)
        }
        return call
    }

    @Test func aMessageInPiecesIsChargedUntilComplete() {
        let budget = CountingBudget(bytesMax: 1 << 20)
        let pair = Self.pair(budget)
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        _ = body.withUnsafeBytes { pair.client.unary(path: Self.path, request: $0, into: &pair.toServer) }
        var received: [UInt8] = []
        var chargedAtDelivery = -1
        pair.run(chunk: 20_000, server: { event, out in
            guard case .message(let c, let m) = event else { return }
            chargedAtDelivery = budget.used
            received = m.bytes
            [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
        })
        #expect(received == body)
        #expect(budget.peak >= 250_000 && budget.peak <= body.count)
        #expect(chargedAtDelivery == 0)  // handed to the application uncharged: it accounts for what it keeps
        #expect(budget.used == 0)
        #expect(pair.clientEvents.last == "finished 1 ok ")
    }

    @Test func aMessageInOneFrameIsReadInPlaceAndNeverCharged() {
        let budget = CountingBudget(bytesMax: 1)
        let pair = Self.pair(budget)
        _ = [UInt8](repeating: 1, count: 1000).withUnsafeBytes { pair.client.unary(path: Self.path, request: $0, into: &pair.toServer) }
        var delivered = false
        pair.run(server: { event, out in
            guard case .message(let c, _) = event else { return }
            delivered = true
            [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) }
        })
        #expect(delivered && budget.peak == 0)
    }

    @Test func aChargeTheBudgetRefusesEndsOnlyThatCall() {
        let budget = CountingBudget(bytesMax: 100_000)
        let pair = Self.pair(budget)
        let hog = Self.partialCall(pair, declared: 1 << 20, sent: 60_000)
        var failed: [(CallID, GRPCStatus)] = []
        pair.run(server: { event, _ in if case .failed(let c, let s) = event { failed.append((c, s)) } })
        let hogHolds = budget.used
        #expect(failed.isEmpty && hogHolds >= 60_000 && hogHolds <= 2 * 60_000)
        // A second message in pieces needs more than the 40 000 bytes left.
        let refused = Self.partialCall(pair, declared: 1 << 20, sent: 50_000)
        pair.run(server: { event, _ in if case .failed(let c, let s) = event { failed.append((c, s)) } })
        #expect(failed.map(\.0) == [refused])
        #expect(failed.first?.1.code == .resourceExhausted)
        #expect(failed.first?.1.message.description.contains("memory budget exceeded") == true)
        #expect(pair.clientEvents.contains { $0.hasPrefix("finished \(refused.stream) resourceExhausted") })
        #expect(budget.used == hogHolds)  // the refused call holds nothing; the first still holds its part
        // The connection goes on: a small call in one frame is answered.
        _ = [UInt8](repeating: 2, count: 100).withUnsafeBytes { pair.client.unary(path: Self.path, request: $0, into: &pair.toServer) }
        pair.run(server: { event, out in
            if case .message(let c, _) = event { [UInt8]().withUnsafeBytes { pair.server.respond(c, message: $0, into: &out) } }
        })
        #expect(pair.clientEvents.last == "finished 5 ok ")
        #expect(hog.stream == StreamID(1))
    }

    /// Near the budget a message's room takes what is left rather than its doubled size: the
    /// budget fills to the brim before a call is refused, as when each piece was charged alone.
    @Test func nearTheBudgetTheRoomTakesWhatIsLeft() {
        let budget = CountingBudget(bytesMax: 100_000)
        let pair = Self.pair(budget)
        _ = Self.partialCall(pair, declared: 1 << 20, sent: 90_000)
        var failed: [GRPCStatus] = []
        pair.run(server: { event, _ in if case .failed(_, let s) = event { failed.append(s) } })
        #expect(failed.isEmpty)
        #expect(budget.used == 100_000)
    }

    @Test func aResetMidMessageGivesTheChargeBack() {
        let budget = CountingBudget(bytesMax: 1 << 20)
        let pair = Self.pair(budget)
        let call = Self.partialCall(pair, declared: 500_000, sent: 30_000)
        pair.run()
        #expect(budget.used >= 30_000)
        pair.client.cancel(call, into: &pair.toServer)
        var cancelled = false
        pair.run(server: { event, _ in if case .cancelled = event { cancelled = true } })
        #expect(cancelled && budget.used == 0)
    }

    @Test func aConnectionGoneMidMessageGivesTheChargesBack() {
        let budget = CountingBudget(bytesMax: 1 << 20)
        do {
            let pair = Self.pair(budget)
            _ = Self.partialCall(pair, declared: 500_000, sent: 30_000)
            _ = Self.partialCall(pair, declared: 500_000, sent: 20_000)
            pair.run()
            #expect(budget.used >= 50_000)
        }
        #expect(budget.used == 0)
    }

    @Test func aConnectionErrorGivesTheChargesBack() {
        let budget = CountingBudget(bytesMax: 1 << 20)
        let pair = Self.pair(budget)
        _ = Self.partialCall(pair, declared: 500_000, sent: 30_000)
        pair.run()
        #expect(budget.used >= 30_000)
        // A frame above the server's SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR ends the connection.
        var connectionError = false
        var frameHeader: [UInt8] = [0, 0x50, 0, 0, 0, 0, 0, 0, 1]
        frameHeader += [UInt8](repeating: 0, count: 0x5000)
        frameHeader.withUnsafeBytes { raw in
            var input = raw
            while let e = pair.server.next(&input, into: &pair.toClient) {
                if case .connectionError = e { connectionError = true }
            }
        }
        #expect(connectionError && budget.used == 0)
    }

    /// What a partial message holds is what it is charged: a prefix declaring 100 MiB and one
    /// byte reserves (and costs) about a byte, and as pieces arrive the room doubles, each
    /// growth charged before it is made.
    @Test func theRoomAPartialMessageReservesIsCharged() throws {
        let budget = CountingBudget(bytesMax: 1 << 30)
        var assembler = MessageAssembler(maxMessageBytes: 200 << 20, budget: budget)
        // malloc may round a block up (to a page, for large ones): not ours to charge.
        let roundingBytesMax = 4096
        var data: [UInt8] = [0, 0x06, 0x40, 0, 0, 7]  // 100 MiB declared, 1 byte sent
        var growths = 0
        for piece in 0 ..< 1_000 {
            let capacityBefore = assembler.body.capacity
            try data.withUnsafeBytes { raw in
                var input = raw
                _ = try assembler.next(&input)
            }
            #expect(assembler.body.count == 1 + piece * 4_000)
            if assembler.body.capacity != capacityBefore { growths += 1 }
            #expect(budget.used == assembler.chargedBytes)
            #expect(assembler.body.capacity <= budget.used + roundingBytesMax, "piece \(piece)")
            #expect(budget.used <= 2 * assembler.body.count + roundingBytesMax, "piece \(piece)")
            data = [UInt8](repeating: 7, count: 4_000)
        }
        #expect(growths <= 14, "the room doubles: log2(4 MB) growths, not one per piece")
        assembler.releaseCharge()
        #expect(budget.used == 0)
    }
}
