import CShims
#if canImport(Glibc)
import Glibc
#endif

// Connections on a loop: listeners, accepts, outbound connects, slots, closes.
// Everything here runs on the loop's thread (or before `start`).

/// One listening socket of a loop and what its accepts need.
struct Listener {
    let socket: ListeningSocket
    let port: UInt16
    let makeHandler: @Sendable (EventLoop) -> any ConnectionHandler
    let limit: ConnectionLimit?
    /// The pause before the next accept while accepts fail for want of descriptors or memory
    /// (0 when the last accept worked).
    var backoffMs: UInt64 = 0
    /// At the connection limit, a look again is scheduled.
    var limitRecheckPending = false
}

extension EventLoop {
    /// Serves connections accepted on `socket` with handlers from `makeHandler`
    /// (called on this loop for each accept), at most `limit` of them open at once.
    public func addListener(
        _ socket: ListeningSocket, limit: ConnectionLimit? = nil,
        makeHandler: @escaping @Sendable (EventLoop) -> any ConnectionHandler
    ) throws(Errno) {
        preconditionInLoop()
        precondition(listeners.count < 1 << 24, "too many listeners")
        try addToEpoll(fd: socket.socket.fileDescriptor, events: UInt32(CSHIM_EPOLLIN),
                       token: Token.listener | UInt64(listeners.count))
        listeners.append(Listener(socket: socket, port: try socket.localPort, makeHandler: makeHandler, limit: limit))
    }

    /// Opens an outbound TCP connection served like an accepted one (loop thread
    /// only). The connect is non-blocking: `connectionOpened` runs once it
    /// completes; a refusal arrives as `connectionClosed(error:)`. Writes made
    /// before then are queued. `host` is an IPv4 literal (resolve names off the hot path).
    @discardableResult
    public func connect(ipv4 host: String, port: UInt16, handler: any ConnectionHandler) throws(Errno) -> ConnectionID {
        preconditionInLoop()
        var inProgress: Int32 = 0
        let fd = try Errno.check(host.withCString { cshim_tcp_connect_nonblocking($0, port, &inProgress) })
        return try adoptConnecting(Socket(fileDescriptor: fd), handler: handler)
    }

    /// `connect(ipv4:port:handler:)` to any resolved address, IPv4 or IPv6 (`EndpointAddress`).
    @discardableResult
    public func connect(to address: EndpointAddress, handler: any ConnectionHandler) throws(Errno) -> ConnectionID {
        preconditionInLoop()
        var inProgress: Int32 = 0
        var storage = address.storage
        let fd = try Errno.check(withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cshim_tcp_connect_address_nonblocking($0, address.length, &inProgress) }
        })
        return try adoptConnecting(Socket(fileDescriptor: fd), handler: handler)
    }

    private func adoptConnecting(_ socket: Socket, handler: any ConnectionHandler) throws(Errno) -> ConnectionID {
        // A completed connect is treated like one in progress: EPOLLOUT fires at once.
        guard let connection = adopt(socket, connecting: true, handler: { _ in handler }) else {
            socket.close()
            throw .tooManyOpenFiles
        }
        return connection.id
    }

    /// The connection `id` names, if it is still open on this loop.
    public func connection(_ id: ConnectionID) -> Connection? {
        preconditionInLoop()
        guard id.loopIndex == index, Int(id.slot) < connections.count,
              generations[Int(id.slot)] == id.generation else { return nil }
        return connections[Int(id.slot)]
    }

    func token(for id: ConnectionID) -> UInt64 {
        Token.connection | UInt64(id.generation) << 24 | UInt64(id.slot)
    }

    func scheduleClose(_ connection: Connection) {
        pendingCloses.append(connection)
    }

    func acceptPending(listener index: Int) {
        guard index < listeners.count else { return }
        let listener = listeners[index]
        // Bounded per readiness event; level-triggered epoll reports the rest.
        for _ in 0..<64 {
            if let limit = listener.limit, !limit.tryAcquire() { return pauseAtLimit(listener: index) }
            let accepted: Socket?
            do {
                accepted = try listener.socket.accept()
            } catch {
                listener.limit?.release()
                if Self.acceptShortages.contains(error) { pauseAccepting(listener: index, after: error) }
                return  // anything else (a connection aborted while queued): the next readiness event retries
            }
            guard let socket = accepted else {
                listener.limit?.release()
                return
            }
            listeners[index].backoffMs = 0
            guard let connection = adopt(socket, connecting: false, handler: listener.makeHandler) else {
                listener.limit?.release()
                rejectedCount.add(1, ordering: .relaxed)
                // Reported before the close, so that whoever sees the close sees the report.
                configuration.connectionRefused?(listener.port)
                socket.close()
                continue
            }
            connection.limit = listener.limit
            acceptedCount.add(1, ordering: .relaxed)
        }
    }

    /// Errors that say the process or the kernel is short of descriptors or memory.
    static let acceptShortages: Set<Errno> = [.tooManyOpenFiles, Errno(rawValue: ENFILE), .noBufferSpace, Errno(rawValue: ENOMEM)]

    /// Out of descriptors or memory, the pending connection stays queued and level-triggered
    /// epoll would report it again at once: the loop would spin on a failing accept. The
    /// listener leaves epoll's interest instead and is looked at again after a pause that
    /// doubles from 5 ms to 1 s while accepts keep failing (Go's and grpc-go's accept backoff);
    /// the connections wait in the listen backlog meanwhile.
    private func pauseAccepting(listener index: Int, after error: Errno) {
        stopWatching(listener: index)
        let delayMs = listeners[index].backoffMs == 0 ? 5 : min(2 * listeners[index].backoffMs, 1000)
        listeners[index].backoffMs = delayMs
        configuration.acceptPaused?(error, delayMs)
        scheduleTimer(afterMs: delayMs) { loop in loop.resumeAccepting(listener: index) }
    }

    /// At its connection limit the listener leaves epoll's interest (it would report the queued
    /// connections again at once) and looks again every 10 ms: the connection that frees a
    /// place may close on another loop, which has no way to wake this one's listener.
    private func pauseAtLimit(listener index: Int) {
        stopWatching(listener: index)
        guard !listeners[index].limitRecheckPending else { return }
        listeners[index].limitRecheckPending = true
        scheduleTimer(afterMs: 10) { loop in
            guard index < loop.listeners.count else { return }  // draining closed the listeners
            loop.listeners[index].limitRecheckPending = false
            loop.resumeAccepting(listener: index)
        }
    }

    private func stopWatching(listener index: Int) {
        _ = cshim_epoll_ctl(epollFD, Int32(CSHIM_EPOLL_MOD), listeners[index].socket.socket.fileDescriptor, 0,
                            Token.listener | UInt64(index))
    }

    private func resumeAccepting(listener index: Int) {
        guard index < listeners.count else { return }  // draining closed the listeners
        _ = cshim_epoll_ctl(epollFD, Int32(CSHIM_EPOLL_MOD), listeners[index].socket.socket.fileDescriptor,
                            UInt32(CSHIM_EPOLLIN), Token.listener | UInt64(index))
        acceptPending(listener: index)
    }

    /// Registers `socket` as a connection on this loop; nil when no slot is free
    /// or epoll refuses it (the caller closes the socket).
    private func adopt(
        _ socket: Socket, connecting: Bool, handler makeHandler: (EventLoop) -> any ConnectionHandler
    ) -> Connection? {
        guard let slot = freeSlots.popLast() else { return nil }
        let id = ConnectionID(loopIndex: index, slot: slot, generation: generations[Int(slot)])
        let connection = Connection(id: id, socket: socket, loop: self, connecting: connecting)
        let rc = cshim_epoll_ctl(epollFD, Int32(CSHIM_EPOLL_ADD), socket.fileDescriptor,
                                 Connection.initialEvents(connecting: connecting), token(for: id))
        guard rc == 0 else {
            freeSlots.append(slot)
            return nil
        }
        connections[Int(slot)] = connection
        let handler = makeHandler(self)
        connection.handler = handler
        if !connecting { handler.connectionOpened(connection) }
        return connection
    }

    /// Starts the deadline sweep if it is not running (a connection set a deadline).
    func armDeadlineSweep() {
        guard deadlineSweep == nil else { return }
        let every = configuration.deadlineResolutionMs
        deadlineSweep = scheduleTimer(afterMs: every, repeatingEveryMs: every) { loop in loop.sweepDeadlines() }
    }

    /// Tells each connection whose deadline has passed; one pass over the slots. A closing one
    /// too: its queued output may never drain to a peer that stopped reading.
    private func sweepDeadlines() {
        let now = Self.monotonicNowNs
        for case let connection? in connections
        where connection.deadlineNs != 0 && connection.deadlineNs <= now
            && (connection.state == .open || connection.state == .closing) {
            connection.deadlineNs = 0
            connection.handler?.deadlinePassed(connection)
        }
    }

    func closePending() {
        while let connection = pendingCloses.popLast() {
            let slot = Int(connection.id.slot)
            connection.socket.close()  // also removes it from the epoll set
            connection.limit?.release()
            connections[slot] = nil
            generations[slot] &+= 1
            freeSlots.append(UInt32(slot))
            connection.finishClose()
        }
    }
}
