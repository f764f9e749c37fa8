import CShims
import HTTP1
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// One S3 connection of a `RingS3ObjectStore`: the socket, its session, which ring operations are
/// in flight, and the memory the kernel reads or writes until they complete (the peer address,
/// the staged output, the receive buffer), owned here so it outlives every operation.
final class RingS3Connection {
    /// The low bits of a ring tag; the connection's serial is above them.
    enum Operation: UInt64 {
        case connect, send, recv, cancel, close
    }

    static let operationBits: UInt64 = 3
    static let operationMask: UInt64 = (1 << operationBits) - 1
    static let receiveBufferBytes = 64 << 10
    static let stagedBytesKept = 256 << 10

    let serial: UInt64
    let fd: Int32
    let session: HTTPClientSession
    let endpoint: String
    let address: UnsafePointer<sockaddr>
    private let addressStorage: UnsafeMutablePointer<sockaddr_storage>
    let receiveBuffer: UnsafeMutableRawBufferPointer
    /// Output taken from the session, waiting for the send in flight to finish.
    var queued: [[UInt8]] = []
    /// What the current send moves (a copy of `queued`, stable until its completion).
    private var staged = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var stagedCount = 0
    private var stagedSent = 0

    var request: RingS3Request?
    var deadline: TimerID?
    /// The request's error, decided when the connection started closing.
    var failure: StorageError?
    /// Taken from the idle pool for the current request.
    var reused = false
    /// The current request's deadline passed (not a stale connection: no second try).
    var expired = false
    var connecting = false, connected = false, sending = false, receiving = false
    /// Armed when the connect is submitted, cancelled once it completes or the connection closes.
    var connectTimer: TimerID?
    /// No answer to the connect within the connect timeout: a failed connect.
    var connectTimedOut = false
    var closing = false, closeSubmitted = false

    init(serial: UInt64, fd: Int32, session: HTTPClientSession, address: EndpointAddress) {
        self.serial = serial
        self.fd = fd
        self.session = session
        endpoint = address.description
        addressStorage = .allocate(capacity: 1)
        addressStorage.initialize(to: address.storage)
        self.address = UnsafeRawPointer(addressStorage).assumingMemoryBound(to: sockaddr.self)
        receiveBuffer = .allocate(byteCount: Self.receiveBufferBytes, alignment: 16)
    }

    deinit {
        addressStorage.deallocate()
        receiveBuffer.deallocate()
        staged.deallocate()
    }

    func tag(_ operation: Operation) -> UInt64 { serial << Self.operationBits | operation.rawValue }

    var operationsInFlight: [Operation] {
        var operations: [Operation] = []
        if connecting { operations.append(.connect) }
        if sending { operations.append(.send) }
        if receiving { operations.append(.recv) }
        return operations
    }

    /// A finished request left the connection clean enough for the next one.
    var isIdleReusable: Bool {
        !closing && session.isReusable && !sending && queued.isEmpty && unsent.isEmpty
    }

    /// The staged bytes not yet sent.
    var unsent: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: staged[stagedSent..<stagedCount])
    }

    /// Copies everything queued into the staging buffer (once the previous stage is sent);
    /// true when there is something to send.
    func stageQueued() -> Bool {
        guard unsent.isEmpty else { return true }
        guard !queued.isEmpty else { return false }
        let total = queued.reduce(0) { $0 + $1.count }
        if staged.count < total {
            staged.deallocate()
            staged = .allocate(byteCount: total, alignment: 16)
        }
        var offset = 0
        for chunk in queued {
            chunk.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: staged[offset..<offset + chunk.count]).copyMemory(from: $0) }
            offset += chunk.count
        }
        queued.removeAll(keepingCapacity: true)
        stagedCount = total
        stagedSent = 0
        return total > 0
    }

    func sentStaged(_ count: Int) {
        precondition(stagedSent + count <= stagedCount, "ring send reported more bytes than staged")
        stagedSent += count
        // A large object's copy is not kept while the connection idles.
        if stagedSent == stagedCount, staged.count > Self.stagedBytesKept {
            staged.deallocate()
            staged = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            stagedCount = 0
            stagedSent = 0
        }
    }
}
