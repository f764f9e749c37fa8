/// A typed, bounded cross-thread inbox drained by one loop: any thread posts,
/// the loop runs `handler` for each element on its own thread. Built on
/// `MPSCQueue`; no locks, no allocation per post (beyond what `Element` itself holds).
///
/// Thread confinement: `post` from any thread; `handler` runs only on the
/// owning loop's thread. Hence `@unchecked Sendable`.
public final class Inbox<Element: Sendable>: @unchecked Sendable {
    private let queue: MPSCQueue<Element>
    private unowned let loop: EventLoop
    private let handler: (Element) -> Void

    /// Create on the loop's thread or before the loop starts.
    public init(loop: EventLoop, capacity: Int, handler: @escaping (Element) -> Void) {
        queue = MPSCQueue(capacity: capacity)
        self.loop = loop
        self.handler = handler
        loop.register(self)
    }

    public var capacity: Int { queue.capacity }

    /// Any thread. False when the inbox is full or the loop has exited; the
    /// element is then not delivered and the caller decides (shed, retry later).
    public func post(_ element: Element) -> Bool {
        loop.deliver { queue.enqueue(element) }
    }
}

/// The loop's view of its inboxes, one existential call per inbox per wake-up.
protocol InboxDraining: AnyObject {
    var capacity: Int { get }
    /// Runs up to `limit` elements; returns how many ran.
    func drain(limit: Int) -> Int
}

extension Inbox: InboxDraining {
    func drain(limit: Int) -> Int {
        var count = 0
        while count < limit, let element = queue.dequeue() {
            handler(element)
            count += 1
        }
        return count
    }
}
