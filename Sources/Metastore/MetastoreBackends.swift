import Runtime

/// One address a client may call: an address of a `-metastore.address` name, with its
/// connection once dialled. A class, so a call in flight keeps naming it while the list is
/// rebuilt around it.
final class MetastoreBackend {
    /// Index of its name in `MetastoreBackends.names`.
    let name: Int
    let node: MetastoreNode
    let address: EndpointAddress
    var connection: NodeConnection?

    init(name: Int, node: MetastoreNode, address: EndpointAddress) {
        self.name = name
        self.node = node
        self.address = address
    }
}

/// The nodes of one loop's client, as grpc-go's `dns:///` resolver gives them: every IPv4 and
/// IPv6 address of every name, in configuration order, each a backend (a raft-ID suffix names
/// all of them). Each name's addresses are an `EndpointAddressList`, resolved again off the loop
/// when connects to them fail (every one since the last success, or any once the list is older
/// than 30 s) or, for a name that did not resolve yet, whenever a call looks for a backend.
/// Loop-confined.
final class MetastoreBackends {
    private struct Name {
        let node: MetastoreNode
        let addresses: EndpointAddressList
    }

    private let loop: EventLoop
    private let connectTimeoutMs: UInt64
    private let tls: MetastoreTLS?
    private let names: [Name]
    private var all: [MetastoreBackend] = []
    /// Index in `all` of the backend calls go to first: the last hinted or successful one.
    private var leader = 0

    init(endpoints: [MetastoreEndpoint], resolver: @escaping EndpointResolver, connectTimeoutMs: UInt64, tls: MetastoreTLS?,
         loop: EventLoop) {
        self.loop = loop
        self.connectTimeoutMs = connectTimeoutMs
        self.tls = tls
        names = endpoints.map {
            Name(node: $0.node, addresses: EndpointAddressList(host: $0.node.host, port: Int($0.node.port),
                                                               addresses: $0.addresses, resolver: resolver))
        }
        rebuild()
    }

    /// Before an attempt: takes the lists of finished resolutions (rebuilding the backends,
    /// the leader kept when its address remains) and asks for names that have no address yet.
    func refresh() {
        var changed = false
        for name in names {
            if name.addresses.takeFinishedResolution() { changed = true }
            if name.addresses.addresses.isEmpty { name.addresses.resolveIfStale() }
        }
        if changed { rebuild() }
    }

    /// The backend the next attempt goes to; nil while no name has an address.
    var preferred: MetastoreBackend? { all.isEmpty ? nil : all[leader] }

    /// The names that have no address (for the error of a call that found no backend).
    var unresolvedNames: [String] { names.filter { $0.addresses.addresses.isEmpty }.map(\.node.address) }

    func prefer(_ backend: MetastoreBackend) {
        if let i = all.firstIndex(where: { $0 === backend }) { leader = i }
    }

    /// After `backend` failed without a leader hint: if it was the leader, the next one is.
    func moveOn(from backend: MetastoreBackend) {
        guard !all.isEmpty, all[leader] === backend else { return }
        leader = (leader + 1) % all.count
    }

    /// `backend`'s open connection, or a new one.
    func connection(_ backend: MetastoreBackend) throws(Errno) -> NodeConnection {
        if let existing = backend.connection, existing.isUsable { return existing }
        do {
            let fresh = try NodeConnection(address: backend.address, authority: backend.node.address, loop: loop,
                                           connectTimeoutMs: connectTimeoutMs,
                                           tls: tls.map { NodeTLS($0, host: backend.node.host) }) { [weak self, weak backend] connection, event in
                guard let self, let backend else { return }
                self.heard(event, from: connection, of: backend)
            }
            backend.connection = fresh
            return fresh
        } catch {
            names[backend.name].addresses.connectFailed(backend.address.description)
            throw error
        }
    }

    private func heard(_ event: NodeConnection.Event, from connection: NodeConnection, of backend: MetastoreBackend) {
        let addresses = names[backend.name].addresses
        switch event {
        case .connected: addresses.connected()
        case .connectFailed: addresses.connectFailed(backend.address.description)
        case .closed: break
        }
        if event != .connected, backend.connection === connection { backend.connection = nil }
    }

    /// The configured backend a leader hint names, or nil. The hint's address is the leader's
    /// raft transport address (`-metastore.raft.advertise-address`, port 9099 by default), not
    /// its gRPC one, so it is never dialled: it counts only when it equals a configured
    /// `host:port` or a resolved `ip:port`. Else the raft ID (port stripped, as upstream's
    /// client keys its nodes) must be the ID of exactly one configured name (the first address
    /// of that name is taken); nodes listed without IDs all share their host's.
    func backend(for hint: RaftNodeHint) -> MetastoreBackend? {
        if let known = all.first(where: { $0.node.address == hint.address || $0.address.description == hint.address }) {
            return known
        }
        let id = MetastoreAddresses.stripPort(hint.id)
        let named = names.indices.filter { names[$0].node.id == id }
        guard !id.isEmpty, named.count == 1 else { return nil }
        return all.first { $0.name == named[0] }
    }

    /// One backend per address of every name; backends (and connections) of addresses that
    /// remain are kept, the others' connections close once their calls ended.
    private func rebuild() {
        let previousLeader = all.isEmpty ? nil : all[leader]
        var fresh: [MetastoreBackend] = []
        for (i, name) in names.enumerated() {
            for address in name.addresses.addresses {
                let kept = all.first { $0.name == i && $0.address.description == address.description }
                fresh.append(kept ?? MetastoreBackend(name: i, node: name.node, address: address))
            }
        }
        for old in all where !fresh.contains(where: { $0 === old }) { old.connection?.retire() }
        all = fresh
        leader = previousLeader.flatMap { kept in fresh.firstIndex { $0 === kept } } ?? 0
    }
}
