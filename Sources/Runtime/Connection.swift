import CShims

/// What a protocol layer implements to serve a connection. Every callback runs
/// on the connection's loop thread; a handler belongs to one connection.
public protocol ConnectionHandler: AnyObject {
    func connectionOpened(_ connection: Connection)
    /// `bytes` is a view of the loop's receive buffer, valid only during this
    /// call: parse in place and copy only what must outlive it.
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection)
    /// The peer finished sending (read returned end of stream); reading stops.
    /// The default closes the connection once queued output is sent; override to
    /// keep it open for replies still being produced (a peer may half-close and wait).
    func inputClosed(_ connection: Connection)
    /// The outbound queue, which had crossed the high watermark (reading was
    /// paused), drained below the low watermark; reading has resumed.
    func connectionWritable(_ connection: Connection)
    /// Called once, after the socket is closed. `error` is nil for an orderly close.
    func connectionClosed(_ connection: Connection, error: Errno?)
    /// The loop's clock passed the connection's `deadlineNs` (cleared before this call), also
    /// while it closes with output queued; the default closes it now. A protocol's timeouts
    /// (handshake, idle, keepalive, write) set the deadline and decide here which one passed.
    func deadlinePassed(_ connection: Connection)
}

extension ConnectionHandler {
    public func connectionOpened(_ connection: Connection) {}
    public func inputClosed(_ connection: Connection) { connection.close() }
    public func connectionWritable(_ connection: Connection) {}
    public func connectionClosed(_ connection: Connection, error: Errno?) {}
    public func deadlinePassed(_ connection: Connection) { connection.closeNow() }
}

/// Names a connection across threads (e.g. to route an acknowledgement back to
/// the loop that owns it); resolve it on that loop with `EventLoop.connection(_:)`.
public struct ConnectionID: Hashable, Sendable {
    public let loopIndex: Int
    let slot: UInt32
    let generation: UInt32
}

/// One accepted TCP connection. Level-triggered: the loop reads at most one
/// receive buffer per readiness event, so a busy peer cannot starve the others,
/// and EPOLLOUT is in the interest set only while bytes are queued.
///
/// Not Sendable: confined to its loop's thread. Post a `ConnectionID` to reach it.
public final class Connection {
    enum State { case connecting, open, closing, closed }

    public let id: ConnectionID
    public let socket: Socket
    public unowned let loop: EventLoop
    var handler: (any ConnectionHandler)?
    private(set) var state = State.open
    /// Bytes accepted by `write` but not yet taken by the kernel: `outbound[outboundStart...]`.
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var readPaused = false
    /// The peer sent FIN; level-triggered EPOLLIN would report it forever, so reading stops.
    private var inputEnded = false
    private var registeredEvents: UInt32
    private var closeScheduled = false
    private(set) var closeError: Errno?
    /// The most ever queued, for tests and metrics (bounded by the watermarks).
    public private(set) var outboundQueuedBytesPeak = 0
    /// The limit of the port it was accepted on, given back when it closes.
    var limit: ConnectionLimit?
    /// When the handler's `deadlinePassed` runs (`EventLoop.monotonicNowNs` scale), 0 for
    /// never. Looked at by the loop's sweep every `deadlineResolutionMs`, not by a timer each:
    /// a deadline moves with every read, and connections outnumber what timers should hold.
    public var deadlineNs: UInt64 = 0 {
        didSet { if deadlineNs != 0 { loop.armDeadlineSweep() } }
    }

    init(id: ConnectionID, socket: Socket, loop: EventLoop, connecting: Bool) {
        self.id = id
        self.socket = socket
        self.loop = loop
        state = connecting ? .connecting : .open
        registeredEvents = Connection.initialEvents(connecting: connecting)
    }

    /// A connect in progress completes as EPOLLOUT.
    static func initialEvents(connecting: Bool) -> UInt32 {
        UInt32(connecting ? CSHIM_EPOLLOUT : CSHIM_EPOLLIN)
    }

    public var outboundQueuedBytes: Int { outbound.count - outboundStart }

    /// False while reading is paused because too much output is queued.
    public var isWritable: Bool { !readPaused }

    public var isOpen: Bool { state == .open }

    /// Writes what the socket takes now and queues the rest (copied), with
    /// EPOLLOUT armed until it drains; while an outbound connect is in progress
    /// everything is queued. Past `outboundHighWatermarkBytes` the
    /// connection stops reading; past `outboundBytesMax` it is closed with ENOBUFS.
    /// Writes after `close()` are dropped.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        loop.preconditionInLoop()
        guard state == .open || state == .connecting, !closeScheduled, !bytes.isEmpty else { return }
        var rest = bytes
        if outboundQueuedBytes == 0 && state == .open {
            do {
                if let written = try socket.write(bytes) {
                    rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
                }
            } catch {
                fail(error)
                return
            }
            if rest.isEmpty { return }
        }
        guard outboundQueuedBytes + rest.count <= loop.configuration.outboundBytesMax else {
            fail(.noBufferSpace)
            return
        }
        if outboundStart > 0 && outboundStart >= outbound.count / 2 {
            outbound.removeFirst(outboundStart)
            outboundStart = 0
        }
        outbound.append(contentsOf: rest)
        outboundQueuedBytesPeak = max(outboundQueuedBytesPeak, outboundQueuedBytes)
        if outboundQueuedBytes > loop.configuration.outboundHighWatermarkBytes { readPaused = true }
        updateInterest()
    }

    /// Orderly close: stop reading, send what is queued, then close the socket.
    public func close() {
        loop.preconditionInLoop()
        if state == .connecting {
            fail(nil)
            return
        }
        guard state == .open else { return }
        state = .closing
        if outboundQueuedBytes == 0 {
            scheduleClose(error: nil)
        } else {
            updateInterest()
        }
    }

    /// Closes at once, dropping queued output: for a peer that is gone or had its time (a
    /// missed keepalive, a handshake that never came), whose unread output would hold the
    /// socket until TCP gave up.
    public func closeNow() {
        loop.preconditionInLoop()
        guard state != .closed else { return }
        fail(nil)
    }

    // MARK: Loop side.

    func handle(events: UInt32) {
        if state == .connecting {
            completeConnect()
            return
        }
        if events & UInt32(CSHIM_EPOLLOUT) != 0 { flush() }
        let readable = state == .open && !readPaused && !inputEnded && !closeScheduled
        if readable && events & UInt32(CSHIM_EPOLLIN) != 0 {
            readOnce()  // a pending error or end of stream surfaces through read
        } else if events & UInt32(CSHIM_EPOLLERR | CSHIM_EPOLLHUP) != 0 {
            // Level-triggered ERR/HUP repeat until the socket is closed; not reading now means closing now.
            fail(.connectionReset)
        }
    }

    /// The loop has closed the socket; tell the handler and break the cycle.
    func finishClose() {
        state = .closed
        outbound = []
        let handler = self.handler
        self.handler = nil
        handler?.connectionClosed(self, error: closeError)
    }

    func closeForStop() {
        state = .closing
        scheduleClose(error: nil)
    }

    func fail(_ error: Errno?) {
        state = .closing
        scheduleClose(error: error)
    }

    private func completeConnect() {
        let error = cshim_socket_error(socket.fileDescriptor)
        guard error == 0 else {
            fail(Errno(rawValue: error))
            return
        }
        state = .open
        updateInterest()
        handler?.connectionOpened(self)
        if outboundQueuedBytes > 0 && !closeScheduled { flush() }
    }

    private func readOnce() {
        let buffer = loop.receiveBuffer
        let count: Int
        do {
            guard let n = try socket.read(into: buffer) else { return }
            count = n
        } catch {
            fail(error)
            return
        }
        guard count > 0 else {
            inputEnded = true
            updateInterest()
            handler?.inputClosed(self)
            return
        }
        handler?.received(UnsafeRawBufferPointer(rebasing: buffer[..<count]), on: self)
    }

    private func flush() {
        guard !closeScheduled else { return }
        while outboundQueuedBytes > 0 {
            let start = outboundStart
            let result = outbound.withUnsafeBytes { all in
                Result { () throws(Errno) -> Int? in try socket.write(UnsafeRawBufferPointer(rebasing: all[start...])) }
            }
            let written: Int?
            switch result {
            case .success(let count): written = count
            case .failure(let error):
                fail(error)
                return
            }
            guard let written else { break }  // send buffer full: EPOLLOUT stays armed
            outboundStart += written
        }
        if outboundQueuedBytes == 0 {
            outbound.removeAll(keepingCapacity: true)
            outboundStart = 0
            if state == .closing {
                scheduleClose(error: nil)
                return
            }
        }
        let resumes = readPaused && outboundQueuedBytes <= loop.configuration.outboundLowWatermarkBytes
        if resumes { readPaused = false }
        updateInterest()
        if resumes { handler?.connectionWritable(self) }
    }

    private func updateInterest() {
        guard !closeScheduled else { return }
        var wanted: UInt32 = 0
        if state == .open && !readPaused && !inputEnded { wanted |= UInt32(CSHIM_EPOLLIN) }
        if outboundQueuedBytes > 0 || state == .connecting { wanted |= UInt32(CSHIM_EPOLLOUT) }
        guard wanted != registeredEvents else { return }
        registeredEvents = wanted
        let rc = cshim_epoll_ctl(loop.epollFD, Int32(CSHIM_EPOLL_MOD), socket.fileDescriptor, wanted, loop.token(for: id))
        if rc < 0 { fail(Errno(rawValue: -rc)) }
    }

    private func scheduleClose(error: Errno?) {
        guard !closeScheduled else { return }
        closeScheduled = true
        closeError = error
        loop.scheduleClose(self)
    }
}
